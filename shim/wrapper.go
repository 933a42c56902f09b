package shim

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/sysgate/sysgate/spec"
)

// Exit status of the wrapper when it refuses or cannot hand over; the real
// runtime's own status is returned by the runtime itself after exec.
const exitRefused = 1

// Main is sysgate-runc: args are the runtime's arguments without argv[0].
// It returns only when it does not exec the real runtime.
//
// create and run read the policy, decide the container's profile, prove it
// compiles and rewrite the bundle; every other command goes straight to the
// real runtime, reading nothing but the policy's runtime key, because the
// shim calls state, kill and delete many times per container.
func Main(args []string, stderr io.Writer) int {
	workDir, err := os.Getwd()
	if err != nil {
		workDir = "."
	}
	inv := ParseInvocation(args, workDir)
	policyPath := spec.PolicyPath()

	if inv.Command != "create" && inv.Command != "run" {
		runtime, err := spec.RuntimeOnly(policyPath)
		if err != nil {
			report(inv, stderr, slog.LevelError, err.Error())
			return exitRefused
		}
		return execRuntime(inv, runtime, args, stderr)
	}

	policy, err := spec.LoadPolicy(policyPath)
	if err != nil {
		report(inv, stderr, slog.LevelError, err.Error()+"; fix the policy file (see docs/policy.md)")
		return exitRefused
	}
	if err := applyDecision(inv, policy, stderr); err != nil {
		report(inv, stderr, slog.LevelError, err.Error())
		return exitRefused
	}
	return execRuntime(inv, policy.Runtime, args, stderr)
}

// applyDecision decides and rewrites the bundle. Nothing is written until
// every check has passed, so on error config.json is what the caller gave.
func applyDecision(inv Invocation, policy spec.Policy, stderr io.Writer) error {
	if _, err := lookRuntime(policy.Runtime); err != nil {
		return err
	}
	bundle, err := spec.ReadBundle(inv.Bundle)
	if err != nil {
		return err
	}
	d, err := spec.Decide(inv.ContainerID, bundle.Spec, policy)
	if err != nil {
		return fmt.Errorf("container %s: %w", inv.ContainerID, err)
	}
	warning, err := spec.CheckDecision(d, policy)
	if err != nil {
		return err
	}
	if warning != "" {
		report(inv, stderr, slog.LevelWarn, warning)
	}
	if err := d.Verify(policy.Cache()); err != nil {
		return fmt.Errorf("container %s: %w", inv.ContainerID, err)
	}
	out, changed, err := bundle.Rendered(d)
	if err != nil {
		return err
	}
	if changed {
		if err := bundle.WriteConfig(out); err != nil {
			return err
		}
	}
	logDecision(inv, policy, d, stderr)
	return nil
}

// decisionRecord is one line of the policy's decision_log.
type decisionRecord struct {
	Time      string           `json:"time"`
	Container spec.Container   `json:"container"`
	Source    string           `json:"source"`
	Type      spec.ProfileType `json:"type"`
	Ref       string           `json:"ref,omitempty"`
	From      string           `json:"from,omitempty"`
	Path      string           `json:"profilePath,omitempty"`
	Digest    string           `json:"digest,omitempty"`
	Audit     bool             `json:"audit,omitempty"`
}

// logDecision appends to the decision log. A log that cannot be written is
// a warning, not a refusal: the container already has its filter, and a
// full disk must not stop every Pod on the node.
func logDecision(inv Invocation, policy spec.Policy, d spec.Decision, stderr io.Writer) {
	if policy.DecisionLog == "" {
		return
	}
	line, _ := json.Marshal(decisionRecord{
		Time: time.Now().UTC().Format(time.RFC3339Nano), Container: d.Container, Source: d.Source,
		Type: d.Type, Ref: d.Ref, From: d.From, Path: d.ProfilePath, Digest: d.Digest, Audit: d.Audit,
	})
	f, err := os.OpenFile(policy.DecisionLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err == nil {
		_, err = f.Write(append(line, '\n'))
		if closeErr := f.Close(); err == nil {
			err = closeErr
		}
	}
	if err != nil {
		report(inv, stderr, slog.LevelWarn, fmt.Sprintf("decision_log %s: %v", policy.DecisionLog, err))
	}
}

func lookRuntime(runtime string) (string, error) {
	path, err := exec.LookPath(runtime)
	if err != nil {
		return "", fmt.Errorf("the real OCI runtime %q cannot be run: %w; install it or set runtime in %s", runtime, err, spec.PolicyPath())
	}
	return path, nil
}

// execRuntime replaces sysgate-runc with the real runtime and the original
// arguments, so that the caller talks to the runtime itself.
func execRuntime(inv Invocation, runtime string, args []string, stderr io.Writer) int {
	path, err := lookRuntime(runtime)
	if err == nil {
		err = syscall.Exec(path, append([]string{path}, args...), os.Environ())
		err = fmt.Errorf("executing %s: %w", path, err)
	}
	report(inv, stderr, slog.LevelError, err.Error())
	return exitRefused
}
