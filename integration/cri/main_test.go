package cri

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sysgate/sysgate/integration/nodekit"
)

// EnvEnable turns the suite on; EnvBin names the directory where make
// test-cri installs crictl and containerd 2.x (containerd2/).
const (
	EnvEnable     = "SYSGATE_CRI"
	EnvBin        = "SYSGATE_CRI_BIN"
	defaultBinDir = "/var/cache/sysgate-cri/bin"
)

func TestMain(m *testing.M) {
	code := m.Run()
	stopDaemons()
	if toolsDir != "" {
		os.RemoveAll(toolsDir)
	}
	os.Exit(code)
}

// requireCRI skips unless the suite was asked for. Once asked for, a missing
// prerequisite is a failure, not a skip: make test-cri must never pass by
// testing nothing.
func requireCRI(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvEnable) != "1" {
		t.Skipf("CRI suite skipped: set %s=1 or run `make test-cri` (starts private containerd daemons, needs root, containerd and crictl, takes minutes)", EnvEnable)
	}
	if os.Geteuid() != 0 {
		t.Fatal("the CRI suite needs root")
	}
	if _, err := crictlPath(); err != nil {
		t.Fatal(err)
	}
}

func binDir() string {
	if d := os.Getenv(EnvBin); d != "" {
		return d
	}
	return defaultBinDir
}

func crictlPath() (string, error) {
	if p, err := exec.LookPath("crictl"); err == nil {
		return p, nil
	}
	p := filepath.Join(binDir(), "crictl")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("crictl not found in PATH or %s: go install sigs.k8s.io/cri-tools/cmd/crictl (make test-cri does)", binDir())
	}
	return p, nil
}

// flavor is one containerd build: the directory holding containerd, ctr
// and the matching containerd-shim-runc-v2, and the config version it reads.
type flavor struct {
	name          string
	dir           string
	configVersion int
	// shimWorks: the sysgate shim is built on containerd 2.4's shim library,
	// whose bootstrap protocol and task API v3 containerd 1.x does not speak.
	shimWorks bool
	// renderedDefaultType is how sysgate records the RuntimeDefault profile
	// this containerd renders: profile.RuntimeDefault is containerd 2.x's, and
	// 1.6's differs (TestRenderedRuntimeDefault lists how), so sysgate
	// keeps 1.6's as an opaque "Rendered" profile.
	renderedDefaultType string
	// install: the daemon's config is the private base without handlers,
	// which `sysgate install` then adds (TestInstallContainerd).
	install bool
	// helper: sysgate-runc asks a running `sysgate helper` (docs/design.md).
	// containerd 2.x runs with one and 1.6 without, so the suite covers
	// both paths of the BinaryName handler.
	helper bool
	// nri: containerd's NRI is on, on a private socket, with a handler
	// runc-nri beside runc (nri_test.go); not in flavors(), only the NRI
	// tests start it.
	nri bool
	// crunNode: the node's policy runs crun (through crun_test.go's
	// wrapper), so the deploy snippet's sysgate and sysgate-shim handlers
	// start crun with no policy-selecting wrapper, as on a node whose
	// runtime is crun; not in flavors(), only the Pod-start benchmark
	// starts it.
	crunNode bool
}

// crunNodeFlavor is containerd 2.x on a node whose sysgate runs crun.
func crunNodeFlavor() flavor {
	f := flavors()[1]
	f.name, f.crunNode = "containerd-2.x-crun-node", true
	return f
}

func flavors() []flavor {
	return []flavor{
		{name: "containerd-1.6", dir: "/usr/bin", configVersion: 2, renderedDefaultType: "Rendered"},
		{name: "containerd-2.x", dir: filepath.Join(binDir(), "containerd2"), configVersion: 3, shimWorks: true, renderedDefaultType: "RuntimeDefault", helper: true},
	}
}

// forEachFlavor runs test against every containerd that is installed. The
// Debian one must be there; containerd 2.x is skipped with a message when
// it was not built.
func forEachFlavor(t *testing.T, test func(t *testing.T, d *daemon)) {
	requireCRI(t)
	for _, f := range flavors() {
		t.Run(f.name, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(f.dir, "containerd")); err != nil {
				if f.configVersion == 2 {
					t.Fatalf("%s: %v (apt-get install containerd)", f.name, err)
				}
				t.Skipf("%s not built in %s (make test-cri builds it from the Go module proxy)", f.name, f.dir)
			}
			test(t, startDaemon(t, f))
		})
	}
}

var (
	buildOnce sync.Once
	toolsDir  string
	buildErr  error
)

// tools builds sysgate-runc, containerd-shim-sysgate-v1 and sysgate once, static like
// `make build`, into a directory that goes first in the daemons' PATH.
func tools(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		toolsDir, buildErr = os.MkdirTemp("", "sgcri-tools-")
		if buildErr != nil {
			return
		}
		buildErr = nodekit.BuildBinaries(toolsDir)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return toolsDir
}
