package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"path/filepath"
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
	// Signals first: a SIGTERM right after the socket appears (a quick
	// systemctl restart) must still remove it.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// The record socket before the helper's: a helper whose socket is
	// up serves recordings too.
	stopRecordings, err := startRecordServer(ctx, policy, log)
	if err != nil {
		return err
	}
	defer stopRecordings()
	listener, err := shim.ListenHelper(*socket)
	if err != nil {
		return err
	}
	log.Info("serving sysgate-runc", "socket", *socket, "policy", policyPath)
	h := &shim.Helper{PolicyPath: policyPath, Log: log}
	// The collector and the metrics are read from the policy at start; a
	// change to denials, denial_log or metrics_listen needs a restart.
	stopExtras, err := startDenialsAndMetrics(ctx, policy, h, log)
	if err != nil {
		listener.Close()
		return err
	}
	defer stopExtras()
	err = h.Serve(ctx, listener)
	served, fellBack := h.Counts()
	log.Info("stopped", "served", served, "handed back", fellBack)
	return err
}
