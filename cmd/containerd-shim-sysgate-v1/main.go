//go:build linux

// Command containerd-shim-sysgate-v1 is the containerd shim for
// runtime_type = "io.containerd.sysgate.v1": containerd's runc shim with
// sysgate's seccomp decision applied to every bundle before its task is
// created. See package github.com/sysgate/sysgate/shim/containerd.
package main

import (
	"context"

	"github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2/manager"
	"github.com/containerd/containerd/v2/pkg/shim"

	sgcontainerd "github.com/sysgate/sysgate/shim/containerd"
)

func main() {
	// The manager starts this same binary as the shim daemon and names the
	// runtime in its Info; the task plugin comes from sgcontainerd's init.
	shim.RunShim(context.Background(), manager.NewShimManager(sgcontainerd.RuntimeType))
}
