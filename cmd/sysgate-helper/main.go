// Command sysgate-helper is the lean create helper: what `sysgate helper`
// does for a policy that asks for creates only (no denials,
// metrics_listen or record_namespaces), in a binary that links no
// Prometheus, eBPF or audit code, so that the resident process stays
// small (docs/design.md, "The create helper"). `sysgate helper` starts it
// by itself when the policy allows; it can be run directly with the same
// flags.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
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

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sysgate-helper:", err)
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(1)
	}
}

// version is set at build time like sysgate's (make build); `sysgate
// doctor` compares the two to find a stale helper.
var version = "dev"

func run(args []string, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "version" {
		// What doctor asks any helper binary: `version --output json`.
		if len(args) == 3 && args[1] == "--output" && args[2] == "json" {
			return json.NewEncoder(os.Stdout).Encode(map[string]string{"sysgate": version})
		}
		fmt.Println("sysgate-helper", version)
		return nil
	}
	fs := flag.NewFlagSet("sysgate-helper", flag.ContinueOnError)
	fs.SetOutput(stderr)
	socket := fs.String("socket", shim.DefaultHelperSocket, "the socket sysgate-runc connects to (sysgate-runc reads "+shim.HelperSocketEnv+")")
	config := fs.String("config", spec.PolicyPath(), "the node policy file; only clients reading this file are served")
	verbose := fs.Bool("verbose", false, "log every create, not only those handed back")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
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
	if services := policy.HelperServices(); services != "" {
		return fmt.Errorf("policy %s asks for %s, which sysgate-helper does not serve (it serves creates only); run `sysgate helper`, which serves them too", policyPath, services)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var restart atomic.Pointer[string]
	h := &shim.Helper{PolicyPath: policyPath, Log: log, Restart: func(reason string) { restart.Store(&reason); cancel() }}
	if err := shim.RunHelper(ctx, h, *socket); err != nil {
		return err
	}
	if reason := restart.Load(); reason != nil {
		// Exit non-zero so that the service manager starts `sysgate
		// helper` again, which picks the binary the policy now needs.
		return errors.New(*reason)
	}
	return nil
}
