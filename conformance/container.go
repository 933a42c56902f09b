package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Runtime is the OCI runtime under test, invoked as
// Path Args... --root STATE COMMAND ...: the way containerd's shim calls
// runc, so a wrapper such as sysgate-runc sees what it sees in production.
type Runtime struct {
	Path string
	Args []string // global options before the command, e.g. --systemd-cgroup
	// Env is added to the environment of every invocation (SYSGATE_CONFIG
	// for sysgate-runc).
	Env []string
	// Root is the private state directory (--root), so that the suite
	// never sees or touches the node's containers.
	Root string
}

// invocation is what one runtime command did.
type invocation struct {
	status         int
	stdout, stderr []byte
}

// errorLine is the runtime's last message on stderr, for reports.
func (inv invocation) errorLine() string {
	lines := strings.Split(strings.TrimSpace(string(inv.stderr)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// command runs one runtime command. Output goes to files, not pipes: a
// created container inherits the stdio of `create` and keeps it open, which
// would make a pipe reader wait for the container. The error is non-nil
// only when the runtime could not be started or timed out; an exit status
// is the caller's to judge.
func (rt Runtime) command(ctx context.Context, dir string, args ...string) (invocation, error) {
	argv := append(append(append([]string{}, rt.Args...), "--root", rt.Root), args...)
	cmd := exec.CommandContext(ctx, rt.Path, argv...)
	cmd.Env = append(os.Environ(), rt.Env...)
	cmd.Dir = dir
	stdout, err := os.CreateTemp(dir, "stdout-")
	if err != nil {
		return invocation{}, err
	}
	defer stdout.Close()
	stderr, err := os.CreateTemp(dir, "stderr-")
	if err != nil {
		return invocation{}, err
	}
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// A container that outlives `run` (it should not) must not hold up
	// the suite past the case's deadline.
	cmd.WaitDelay = 2 * time.Second
	runErr := cmd.Run()
	inv := invocation{}
	inv.stdout, _ = os.ReadFile(stdout.Name())
	inv.stderr, _ = os.ReadFile(stderr.Name())
	if ctx.Err() != nil {
		return inv, fmt.Errorf("%s %s: %w", rt.Path, strings.Join(args, " "), ctx.Err())
	}
	var exitErr *exec.ExitError
	switch {
	case runErr == nil:
	case errors.As(runErr, &exitErr):
		inv.status = exitErr.ExitCode()
		if inv.status < 0 {
			return inv, fmt.Errorf("%s %s: %v", rt.Path, strings.Join(args, " "), runErr)
		}
	default:
		return inv, fmt.Errorf("running %s: %w", rt.Path, runErr)
	}
	return inv, nil
}

// runOnce runs the bundle's process to completion with `run` and removes
// the container.
func (rt Runtime) runOnce(ctx context.Context, bundleDir, id string) (invocation, error) {
	inv, err := rt.command(ctx, bundleDir, "run", "--bundle", bundleDir, id)
	rt.remove(bundleDir, id)
	return inv, err
}

// execIn creates and starts the container (its init process sleeps), runs
// argv in it with `exec`, and removes it. A failed create or start is the
// returned invocation, with started false.
func (rt Runtime) execIn(ctx context.Context, bundleDir, id string, argv []string) (inv invocation, started bool, err error) {
	defer rt.remove(bundleDir, id)
	for _, step := range [][]string{{"create", "--bundle", bundleDir, id}, {"start", id}} {
		inv, err = rt.command(ctx, bundleDir, step...)
		if err != nil || inv.status != 0 {
			return inv, false, err
		}
	}
	inv, err = rt.command(ctx, bundleDir, append([]string{"exec", id}, argv...)...)
	return inv, true, err
}

// remove deletes the container whatever state it is in; it has its own
// deadline so that it also runs after the case's has passed.
func (rt Runtime) remove(bundleDir, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _ = rt.command(ctx, bundleDir, "delete", "--force", id)
}

// Version is the runtime's `--version` output, first lines joined, for the
// report header.
func (rt Runtime) Version(ctx context.Context) string {
	cmd := exec.CommandContext(ctx, rt.Path, "--version")
	cmd.Env = append(os.Environ(), rt.Env...)
	out, err := cmd.Output()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	var keep []string
	for _, l := range strings.Split(string(bytes.TrimSpace(out)), "\n") {
		l = strings.TrimSpace(l)
		// crun lists its build options and rundir; they are not versions.
		if strings.HasPrefix(l, "+") || strings.HasPrefix(l, "rundir:") || strings.HasPrefix(l, "go:") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "; ")
}

// stateDir makes the private --root.
func stateDir(work string) (string, error) {
	dir := filepath.Join(work, "state")
	return dir, os.MkdirAll(dir, 0o700)
}
