package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/sysgate/sysgate/shim"
	"github.com/sysgate/sysgate/shim/denials"
	"github.com/sysgate/sysgate/spec"
)

// startDenialsAndMetrics starts what the policy asks of the helper beside
// serving creates: the denial collector (denials = true) and the metrics
// endpoint (metrics_listen). A collector that cannot start fails the
// helper: the operator asked to see denials, and a helper that silently
// shows none would be read as "nothing was denied".
func startDenialsAndMetrics(ctx context.Context, policy spec.Policy, h *shim.Helper, log *slog.Logger) (stop func(), err error) {
	var m *denials.Metrics
	if policy.MetricsListen != "" || policy.Denials {
		m = denials.NewMetrics()
		h.Metrics = m
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	stop = func() { cancel(); wg.Wait() }
	if policy.MetricsListen != "" {
		l, err := net.Listen("tcp", policy.MetricsListen)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("metrics_listen %s: %w; pick a free address in policy %s", policy.MetricsListen, err, policy.Path)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", m.Handler())
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		wg.Go(func() {
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics endpoint stopped", "address", policy.MetricsListen, "error", err)
			}
		})
		wg.Go(func() {
			<-ctx.Done()
			srv.Close()
		})
		log.Info("serving metrics", "address", l.Addr().String())
	}
	if policy.Denials {
		c := &denials.Collector{
			DecisionLog: policy.DecisionLog, DenialLog: policy.DenialLog, DenialLogMaxBytes: policy.DenialLogMaxBytes,
			Metrics: m, Log: log,
		}
		if policy.DecisionLog == "" {
			log.Warn("denials = true without decision_log: denials are attributed to container ids only, without Pod names or profiles")
		}
		started := make(chan error, 1)
		wg.Go(func() {
			err := c.Run(ctx)
			select {
			case started <- err:
			default:
			}
			if err != nil {
				log.Error("denial collector stopped", "error", err)
			}
		})
		// Run fails at once when no source opens; wait briefly for that.
		select {
		case err := <-started:
			if err != nil {
				stop()
				return nil, fmt.Errorf("denials = true in policy %s, but the collector cannot run: %w", policy.Path, err)
			}
		case <-time.After(300 * time.Millisecond):
			select { // later errors are logged, not returned
			case started <- nil:
			default:
			}
		}
	}
	return stop, nil
}
