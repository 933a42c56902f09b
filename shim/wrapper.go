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

// applyDecision is Prepare for a runtime command line.
func applyDecision(inv Invocation, policy spec.Policy, stderr io.Writer) error {
	if _, err := lookRuntime(policy.Runtime); err != nil {
		return err
	}
	warn := func(msg string) { report(inv, stderr, slog.LevelWarn, msg) }
	_, err := Prepare(inv.Bundle, inv.ContainerID, policy, warn)
	return err
}

// Prepare decides a container's profile and rewrites its bundle. Nothing
// is written until every check has passed, so on error config.json is what
// the caller gave. warn receives what must be said but does not stop the
// container. The containerd shim calls this before it creates the task.
func Prepare(bundleDir, id string, policy spec.Policy, warn func(string)) (spec.Decision, error) {
	bundle, err := spec.ReadBundle(bundleDir)
	if err != nil {
		return spec.Decision{}, err
	}
	d, err := spec.Decide(id, bundle.Spec, policy)
	if err != nil {
		return d, fmt.Errorf("container %s: %w", id, err)
	}
	warning, err := spec.CheckDecision(d, policy)
	if err != nil {
		return d, err
	}
	if warning != "" {
		warn(warning)
	}
	prog, err := d.Verify(policy.Cache())
	if err != nil {
		return d, fmt.Errorf("container %s: %w", id, err)
	}
	var bpf []byte
	if prog != nil && policy.HandsOverBPF() {
		bpf = prog.Bytes()
	}
	out, changed, err := bundle.Rendered(d, bpf)
	if err != nil {
		return d, err
	}
	if changed {
		if err := bundle.WriteConfig(out); err != nil {
			return d, err
		}
	}
	logDecision(policy, d, warn)
	return d, nil
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
func logDecision(policy spec.Policy, d spec.Decision, warn func(string)) {
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
		warn(fmt.Sprintf("decision_log %s: %v", policy.DecisionLog, err))
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
