package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sysgate/sysgate/shim/denials"
	"github.com/sysgate/sysgate/spec"
)

// runDenials shows what the helper's collector recorded: which syscall was
// denied, in which Pod and container, by which rule.
func runDenials(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("denials", "[--follow] [--since D] [--namespace N] [--pod P] [--container C] [--pid PID] [--output table|json] [--config FILE]", stdout)
	follow := fs.Bool("follow", false, "keep printing denials as they are recorded, until interrupted")
	since := fs.Duration("since", 0, "only denials seen within this duration, e.g. 10m")
	namespace := fs.String("namespace", "", "only this Pod namespace")
	pod := fs.String("pod", "", "only this Pod")
	container := fs.String("container", "", "only this container (name, or id or its prefix)")
	pid := fs.Int("pid", 0, "only this process (also one outside any container)")
	output := fs.String("output", "table", "table or json (one denial per line)")
	config := fs.String("config", spec.PolicyPath(), "the node policy file, which names denial_log")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	if *output != "table" && *output != "json" {
		return fmt.Errorf("%w: --output %q: want table or json", errUsage, *output)
	}
	policy, err := spec.LoadPolicy(*config)
	if err != nil {
		return err
	}
	filter := denials.Filter{Namespace: *namespace, Pod: *pod, Container: *container, Pid: *pid}
	if *since > 0 {
		filter.Since = time.Now().Add(-*since)
	}
	// Denials the runtime never reports cannot be in the log: say so
	// whatever the log holds.
	var runtimeNote string
	if ok, why := policy.RuntimeTakesLogFlag(); !ok || !policy.LogDenials {
		runtimeNote = why
		if policy.LogDenials && why != "" && !strings.Contains(why, spec.NoFlagsNote) {
			runtimeNote = "ERRNO, TRAP and NOTIFY outcomes may be missing: " + why
		}
		if !policy.LogDenials {
			runtimeNote = "log_denials = false: only LOG and KILL outcomes are recorded"
		}
	}
	show := func(printed map[string]uint64) error {
		rep, err := denials.ReadLog(policy.DenialLog)
		if err != nil {
			return err
		}
		var out []denials.Denial
		for _, d := range rep.Denials {
			if !filter.Match(d) {
				continue
			}
			id := fmt.Sprintf("%s|%s|%d|%s|%s|%s", d.Container, d.Unattributed, d.Pid, d.Syscall, d.ABI, d.Action)
			if printed != nil {
				if printed[id] == d.Count {
					continue
				}
				printed[id] = d.Count
			}
			out = append(out, d)
		}
		if *output == "json" {
			enc := json.NewEncoder(stdout)
			for _, d := range out {
				if err := enc.Encode(d); err != nil {
					return err
				}
			}
			if printed == nil {
				return enc.Encode(map[string]any{"kind": "lost", "lost": rep.Lost, "recordsLost": rep.Lost.Total(), "corruptLines": rep.Corrupt, "note": runtimeNote})
			}
			return nil
		}
		if printed != nil && len(out) == 0 {
			return nil
		}
		if err := denials.WriteTable(stdout, out, rep.Lost, rep.Corrupt); err != nil {
			return err
		}
		if runtimeNote != "" && printed == nil {
			fmt.Fprintln(stdout, "note:", runtimeNote)
		}
		return nil
	}
	if !*follow {
		return show(nil)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	printed := map[string]uint64{}
	for {
		if err := show(printed); err != nil {
			fmt.Fprintln(stderr, "sysgate denials:", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(500 * time.Millisecond):
		}
	}
}
