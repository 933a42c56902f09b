package shim

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"

	"github.com/sysgate/sysgate/spec"
)

// HelperFlags registers the flags both helper commands take (`sysgate
// helper` and the lean sysgate-helper, which it execs with the same
// arguments). The returned function, called after parsing, loads the
// policy and makes the log.
func HelperFlags(fs *flag.FlagSet) func(stderr io.Writer) (socket string, policy spec.Policy, log *slog.Logger, err error) {
	socket := fs.String("socket", DefaultHelperSocket, "the socket sysgate-runc connects to (sysgate-runc reads "+HelperSocketEnv+")")
	config := fs.String("config", spec.PolicyPath(), "the node policy file; only clients reading this file are served")
	verbose := fs.Bool("verbose", false, "log every create, not only those handed back")
	return func(stderr io.Writer) (string, spec.Policy, *slog.Logger, error) {
		level := slog.LevelInfo
		if *verbose {
			level = slog.LevelDebug
		}
		log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
		path, err := filepath.Abs(*config)
		if err != nil {
			return "", spec.Policy{}, nil, err
		}
		policy, err := spec.LoadPolicy(path)
		if err != nil {
			return "", spec.Policy{}, nil, fmt.Errorf("%w; fix the policy before starting the helper (see docs/policy.md)", err)
		}
		return *socket, policy, log, nil
	}
}

// ServeHelper runs h on socket until SIGTERM or SIGINT, or until h's
// policy changes the services it runs beside creates: then it returns an
// error saying so, so that the process exits non-zero and its service
// manager starts it again. services, if set, starts those services with
// the serving context before the socket appears.
func ServeHelper(h *Helper, socket string, services func(ctx context.Context) (stop func(), err error)) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Signals first: a SIGTERM right after the socket appears (a quick
	// systemctl restart) must still remove it.
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var restart atomic.Pointer[string]
	h.Restart = func(reason string) { restart.Store(&reason); cancel() }
	if services != nil {
		stopServices, err := services(ctx)
		if err != nil {
			return err
		}
		defer stopServices()
	}
	if err := RunHelper(ctx, h, socket); err != nil {
		return err
	}
	if reason := restart.Load(); reason != nil {
		return errors.New(*reason)
	}
	return nil
}

// RunHelper listens on socket and serves h until ctx ends, logging the
// start and the totals.
func RunHelper(ctx context.Context, h *Helper, socket string) error {
	listener, err := ListenHelper(socket)
	if err != nil {
		return err
	}
	h.Log.Info("serving sysgate-runc", "socket", socket, "policy", h.PolicyPath, "services", h.Services)
	err = h.Serve(ctx, listener)
	served, fellBack := h.Counts()
	h.Log.Info("stopped", "served", served, "handed back", fellBack)
	return err
}
