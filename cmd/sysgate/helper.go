package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/sysgate/sysgate/shim"
	"github.com/sysgate/sysgate/spec"
)

// runHelper serves sysgate-runc's creates from a resident process until
// SIGTERM or SIGINT (docs/design.md, "The create helper").
func runHelper(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("helper", "[--socket PATH] [--config FILE] [--verbose]", stdout)
	open := shim.HelperFlags(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	socket, policy, log, err := open(stderr)
	if err != nil {
		return err
	}
	services := policy.HelperServices()
	if services == "" {
		execLeanHelper(args, log) // returns only when it cannot
	}
	h := &shim.Helper{PolicyPath: policy.Path, Log: log, Services: services}
	return shim.ServeHelper(h, socket, func(ctx context.Context) (func(), error) {
		// The record socket before the helper's: a helper whose socket
		// is up serves recordings too.
		stopRecordings, err := startRecordServer(ctx, policy, log)
		if err != nil {
			return nil, err
		}
		stopExtras, err := startDenialsAndMetrics(ctx, policy, h, log)
		if err != nil {
			stopRecordings()
			return nil, err
		}
		return func() { stopExtras(); stopRecordings() }, nil
	})
}

// leanHelper is the binary `make build` puts beside sysgate that serves
// creates only (cmd/sysgate-helper).
const leanHelper = "sysgate-helper"

// execLeanHelper replaces this process with sysgate-helper from sysgate's
// own directory, for a policy that asks for creates only: the same
// service in a binary less than half the size, so a resident set of about
// 13 MB instead of 23 (docs/benchmarks.md). It returns, and this process
// serves, when there is no such binary or it is not root's alone.
func execLeanHelper(args []string, log *slog.Logger) {
	self, err := os.Executable()
	if err != nil {
		return
	}
	lean := filepath.Join(filepath.Dir(self), leanHelper)
	if _, err := os.Stat(lean); err != nil {
		log.Info("serving creates in this process", "reason", fmt.Sprintf("no %s beside %s", leanHelper, self))
		return
	}
	if err := spec.CheckTrustedPath(lean, leanHelper); err != nil {
		log.Warn("serving creates in this process", "reason", err.Error())
		return
	}
	err = syscall.Exec(lean, append([]string{lean}, args...), os.Environ())
	log.Warn("serving creates in this process", "reason", fmt.Sprintf("exec %s: %v", lean, err))
}
