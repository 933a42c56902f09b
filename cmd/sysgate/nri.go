package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sysgate/sysgate/shim/denials"
	"github.com/sysgate/sysgate/shim/nri"
	"github.com/sysgate/sysgate/spec"
)

// runNRI is the containerd NRI plugin (docs/deploy.md, "Plugin mode"):
// it decides every container's profile when containerd's CRI creates it.
func runNRI(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("nri", "[--socket PATH] [--config FILE] [--name NAME] [--index NN] [--metrics-listen HOST:PORT]", stdout)
	socket := fs.String("socket", "", "containerd's NRI socket (default: NRI's /var/run/nri/nri.sock, or the connection containerd passes to a plugin it launched)")
	config := fs.String("config", spec.PolicyPath(), "the node policy file, read at every create")
	name := fs.String("name", nri.DefaultName, "the plugin's name (containerd's default_validator.required_plugins names it)")
	index := fs.String("index", nri.DefaultIndex, "the plugin's index: NRI calls plugins in index order")
	metrics := fs.String("metrics-listen", "", "host:port to serve the plugin's decision metrics at /metrics (not the policy's metrics_listen, which the helper serves)")
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
	if _, err := spec.LoadPolicy(policyPath); err != nil {
		return fmt.Errorf("%w; fix the policy before starting the plugin (see docs/policy.md)", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	logger := log.New(stderr, "sysgate nri: ", log.LstdFlags|log.Lmicroseconds)
	p := &nri.Plugin{PolicyPath: policyPath, Logf: logger.Printf}
	if *metrics != "" {
		m := denials.NewMetrics()
		l, err := net.Listen("tcp", *metrics)
		if err != nil {
			return fmt.Errorf("--metrics-listen %s: %w", *metrics, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", m.Handler())
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(l)
		defer srv.Close()
		p.Metrics = m
		logger.Printf("serving metrics at %s", l.Addr())
	}
	logger.Printf("registering %s-%s with containerd (policy %s)", *index, *name, policyPath)
	return p.Run(ctx, nri.Options{Socket: *socket, Name: *name, Index: *index, Reconnect: time.Second})
}
