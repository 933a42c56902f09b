package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/sysgate/sysgate/integration/bundle"
	"github.com/sysgate/sysgate/spec"
)

// variant is one way of running a container.
type variant struct {
	name     string
	runtime  string // the binary called: a runtime or sysgate-runc
	policy   string // SYSGATE_CONFIG for sysgate-runc
	baseline int    // index of the bare runtime this is compared with
	// freshCache empties sysgate's cache before every start (a miss).
	freshCache string
}

// containerSection times create + start + delete of a RuntimeDefault
// container (rendered into the bundle, as containerd does) for each
// runtime, bare and behind sysgate-runc.
func containerSection(binDir string, starts int) (string, error) {
	head := "## Container create + start + delete, RuntimeDefault profile (ms, wall)\n\n"
	if os.Geteuid() != 0 {
		return head, fmt.Errorf("running containers needs root")
	}
	wrapper, err := filepath.Abs(filepath.Join(binDir, "sysgate-runc"))
	if err != nil {
		return head, err
	}
	if _, err := os.Stat(wrapper); err != nil {
		return head, fmt.Errorf("%s: %w (run make build)", wrapper, err)
	}
	work, err := os.MkdirTemp("", "sysgate-bench-containers-")
	if err != nil {
		return head, err
	}
	defer os.RemoveAll(work)
	runc, err := exec.LookPath("runc")
	if err != nil {
		return head, err
	}
	crun, err := crunPrivate(work)
	if err != nil {
		return head, err
	}
	policy := func(name, runtime, kind, cache string) (string, error) {
		path := filepath.Join(work, name+".toml")
		body := fmt.Sprintf("runtime = %q\nruntime_kind = %q\ncache_dir = %q\n", runtime, kind, cache)
		return path, os.WriteFile(path, []byte(body), 0o644)
	}
	warm := filepath.Join(work, "cache")
	cold := filepath.Join(work, "cold-cache")
	pRunc, err := policy("runc", runc, "runc", warm)
	if err != nil {
		return head, err
	}
	pCrun, _ := policy("crun", crun, "crun", warm)
	pCrunCold, _ := policy("crun-cold", crun, "crun", cold)
	pRuncCold, _ := policy("runc-cold", runc, "runc", cold)
	variants := []variant{
		{name: "runc (compiles the profile itself)", runtime: runc, baseline: 0},
		{name: "crun (compiles the profile itself)", runtime: crun, baseline: 1},
		{name: "sysgate-runc + runc, cache hit", runtime: wrapper, policy: pRunc, baseline: 0},
		{name: "sysgate-runc + runc, cache miss", runtime: wrapper, policy: pRuncCold, baseline: 0, freshCache: cold},
		{name: "sysgate-runc + crun, cache hit (crun takes sysgate's program)", runtime: wrapper, policy: pCrun, baseline: 1},
		{name: "sysgate-runc + crun, cache miss", runtime: wrapper, policy: pCrunCold, baseline: 1, freshCache: cold},
	}
	// A bundle per variant: sysgate-runc rewrites its bundle (and hands
	// crun its program there), which must not leak into the bare runs.
	dirs := make([]string, len(variants))
	for v := range variants {
		dirs[v] = filepath.Join(work, fmt.Sprintf("bundle%d", v))
		if _, err := bundle.Create(dirs[v], bundle.Options{Args: []string{"true"}, Seccomp: spec.RuntimeDefault(bundle.DefaultCapabilities)}); err != nil {
			return head, err
		}
	}
	state := filepath.Join(work, "state")
	times := make([][]float64, len(variants))
	for i := -1; i < starts; i++ { // the first round warms caches and is not counted
		for v, va := range variants {
			d, err := cycle(va, dirs[v], state, fmt.Sprintf("bench-%d-%d", v, i))
			if err != nil {
				return head, fmt.Errorf("%s: %w", va.name, err)
			}
			if i >= 0 {
				times[v] = append(times[v], float64(d.Microseconds())/1000)
			}
		}
	}
	var rows [][]string
	for v, va := range variants {
		base := variants[va.baseline].name
		rows = append(rows, []string{va.name, f1(median(times[v])), f2(median(pairedRatios(times[v], times[va.baseline]))) + " × " + base[:4]})
	}
	note := "\ncrun runs through a wrapper script (private mount namespace, cgroup2, no cgroup manager) because crun 1.8.1 refuses this machine's hybrid cgroup layout; both crun rows pay it.\n"
	return head + table([]string{"variant", "ms", "ratio"}, rows) + note, nil
}

func cycle(v variant, dir, state, id string) (time.Duration, error) {
	if v.freshCache != "" {
		os.RemoveAll(v.freshCache)
	}
	start := time.Now()
	for _, args := range [][]string{{"create", "--bundle", dir, id}, {"start", id}, {"delete", "--force", id}} {
		cmd := exec.Command(v.runtime, append([]string{"--root", state}, args...)...)
		cmd.Env = os.Environ()
		if v.policy != "" {
			cmd.Env = append(cmd.Env, spec.PolicyPathEnv+"="+v.policy)
		}
		// A file, not a pipe: the created container holds its stdio open.
		out, err := os.CreateTemp("", "sysgate-bench-out-")
		if err != nil {
			return 0, err
		}
		cmd.Stdout, cmd.Stderr = out, out
		err = cmd.Run()
		out.Close()
		text, _ := os.ReadFile(out.Name())
		os.Remove(out.Name())
		if err != nil {
			return 0, fmt.Errorf("%v: %v\n%s", args, err, text)
		}
	}
	return time.Since(start), nil
}

// crunPrivate writes the script that runs crun here (see
// integration/wrapper/harness_test.go for why).
func crunPrivate(dir string) (string, error) {
	crun, err := exec.LookPath("crun")
	if err != nil {
		return "", err
	}
	script := filepath.Join(dir, "crun-private")
	body := "#!/bin/sh\nexec unshare -m sh -c 'mount -t cgroup2 none /sys/fs/cgroup && exec " + crun + " --cgroup-manager=disabled \"$@\"' crun \"$@\"\n"
	return script, os.WriteFile(script, []byte(body), 0o755)
}
