package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"

	"github.com/sysgate/sysgate/shim"
	"github.com/sysgate/sysgate/spec"
)

// runHelper serves sysgate-runc's creates from a resident process until
// SIGTERM or SIGINT (docs/design.md, "The create helper").
func runHelper(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("helper", "[--socket PATH] [--config FILE] [--verbose]", stdout)
	socket := fs.String("socket", shim.DefaultHelperSocket, "the socket sysgate-runc connects to (sysgate-runc reads "+shim.HelperSocketEnv+")")
	config := fs.String("config", spec.PolicyPath(), "the node policy file; only clients reading this file are served")
	verbose := fs.Bool("verbose", false, "log every create, not only those handed back")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	policyPath, err := filepath.Abs(*config)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	policy, err := spec.LoadPolicy(policyPath)
	if err != nil {
		return fmt.Errorf("%w; fix the policy before starting the helper (see docs/policy.md)", err)
	}
	services := policy.HelperServices()
	if services == "" {
		execLeanHelper(args, log) // returns only when it cannot
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Signals first: a SIGTERM right after the socket appears (a quick
	// systemctl restart) must still remove it.
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// The record socket before the helper's: a helper whose socket is
	// up serves recordings too.
	stopRecordings, err := startRecordServer(ctx, policy, log)
	if err != nil {
		return err
	}
	defer stopRecordings()
	var restart atomic.Pointer[string]
	h := &shim.Helper{PolicyPath: policyPath, Log: log, Services: services,
		Restart: func(reason string) { restart.Store(&reason); cancel() }}
	// The collector and the metrics start with the process; a policy that
	// changes them restarts it (shim.Helper.Restart).
	stopExtras, err := startDenialsAndMetrics(ctx, policy, h, log)
	if err != nil {
		return err
	}
	defer stopExtras()
	if err := shim.RunHelper(ctx, h, *socket); err != nil {
		return err
	}
	if reason := restart.Load(); reason != nil {
		// Non-zero, so that the service manager starts it again.
		return errors.New(*reason)
	}
	return nil
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
