package shim

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"syscall"

	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/refusal"
)

// Exit status of the wrapper when it does not hand over; the real runtime's
// own status is returned by the runtime itself after exec. A refusal is the
// input's fault and final (refusal.Of); a fault is the node's, and a retry
// may succeed once it is fixed. docs/design.md, "Exit codes".
const (
	exitRefused = 1
	exitFault   = 3
)

// fail reports err and returns the exit status its kind calls for.
func fail(inv Invocation, stderr io.Writer, err error) int {
	report(inv, stderr, slog.LevelError, err.Error())
	if _, refused := refusal.Of(err); refused {
		return exitRefused
	}
	return exitFault
}

// Main is sysgate-runc: args are the runtime's arguments without argv[0].
// It returns only when it does not exec the real runtime.
//
// create and run read the policy, decide the container's profile, prove it
// compiles and rewrite the bundle; every other command, and a create or run
// that creates nothing (help, a usage error), goes straight to the real
// runtime, reading nothing but the policy's runtime key, because the shim
// calls state, kill and delete many times per container and because help
// and usage errors must be the runtime's own.
func Main(args []string, stderr io.Writer) int {
	inv := ParseInvocation(args)
	policyPath := spec.PolicyPath()

	if inv.Unclear != "" {
		// Which command this is, and which bundle, is the runtime's reading,
		// not ours: passing it on could start a container unfiltered.
		return fail(inv, stderr, refusal.Errorf(refusal.BadInput, "sysgate-runc refuses a command line it cannot read exactly: %s", inv.Unclear))
	}
	if inv.Command == "restore" {
		return restore(inv, policyPath, args, stderr)
	}
	if inv.Command != "create" && inv.Command != "run" || inv.CreatesNothing != "" {
		runtime, err := spec.RuntimeOnly(policyPath)
		if err != nil {
			return fail(inv, stderr, err)
		}
		return execRuntime(inv, runtime, args, stderr)
	}

	policy, err := spec.LoadPolicy(policyPath)
	if err != nil {
		return fail(inv, stderr, fmt.Errorf("%w; fix the policy file (see docs/policy.md)", err))
	}
	bundleDir, err := applyDecision(inv, policy, stderr)
	if err != nil {
		return fail(inv, stderr, err)
	}
	return execRuntime(inv, policy.Runtime, inv.WithBundle(args, bundleDir), stderr)
}

// restore brings a checkpointed container back with the seccomp filter its
// image holds, which sysgate cannot check against the decision for the
// bundle: it goes through only where the policy allows restores.
func restore(inv Invocation, policyPath string, args []string, stderr io.Writer) int {
	policy, err := spec.LoadPolicy(policyPath)
	if err != nil {
		return fail(inv, stderr, fmt.Errorf("%w; fix the policy file (see docs/policy.md)", err))
	}
	if !policy.AllowRestore {
		return fail(inv, stderr, refusal.Errorf(refusal.Policy, "refusing restore: a checkpoint brings back the seccomp state stored in its image, not the filter policy %s decides for this bundle, and checkpoint images can be imported; set allow_restore = true in the policy to let restores through", policyName(policy)))
	}
	report(inv, stderr, slog.LevelWarn, "restore: the container runs the seccomp filter its checkpoint image holds (allow_restore = true)")
	return execRuntime(inv, policy.Runtime, args, stderr)
}

func policyName(p spec.Policy) string {
	if p.Path == "" {
		return spec.PolicyPath() + " (missing: defaults)"
	}
	return p.Path
}

// applyDecision is Prepare for a runtime command line; it returns the
// bundle's real path, which the runtime is then given.
func applyDecision(inv Invocation, policy spec.Policy, stderr io.Writer) (string, error) {
	if _, err := lookRuntime(policy.Runtime); err != nil {
		return "", err
	}
	warn := func(msg string) { report(inv, stderr, slog.LevelWarn, msg) }
	c, err := spec.Plan(nil, inv.Bundle, inv.ContainerID, policy)
	defer c.Close()
	if err != nil {
		return "", err
	}
	if c.Warning != "" {
		warn(c.Warning)
	}
	if r := c.Decision.Record; r != nil {
		// Before anything is written: a recording that cannot start
		// leaves the bundle as it was and the container not created.
		if err := startRecording(inv, c, policy); err != nil {
			return "", err
		}
	}
	return c.Bundle.Dir, c.Commit("", warn)
}

// startRecording asks the helper to record the tree rooted at this
// process, which becomes the runtime: runc or crun, its init, and the
// container, counted once they hold the filter.
func startRecording(inv Invocation, c *spec.Create, policy spec.Policy) error {
	d := c.Decision
	req := RecordRequest{
		Op: "start", ID: inv.ContainerID, Pid: os.Getpid(), Path: d.Record.Path, Name: d.Record.Name,
		Container: d.Container.Namespace + "/" + d.Container.Pod + "/" + d.Container.Name,
		Image:     imageOf(c.Bundle.Spec.Annotations), Runtime: policy.Runtime,
	}
	if _, err := AskRecorder(policy.RecordSocket, req); err != nil {
		return fmt.Errorf("container %s: record mode (%s): cannot start the recording: %w; the container was not created", inv.ContainerID, spec.AnnotationRecord, err)
	}
	return nil
}

// imageOf is the image name the engine wrote into the bundle.
func imageOf(a map[string]string) string {
	for _, k := range []string{"io.kubernetes.cri.image-name", "io.kubernetes.cri-o.ImageName", "org.opencontainers.image.ref.name"} {
		if v := a[k]; v != "" {
			return v
		}
	}
	return ""
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
	return fail(inv, stderr, err)
}
