package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/sysgate/sysgate/integration/stats"
	"github.com/sysgate/sysgate/spec/profile"

	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/integration/helperproc"
	"github.com/sysgate/sysgate/shim"
	"github.com/sysgate/sysgate/spec"
	specbundle "github.com/sysgate/sysgate/spec/bundle"
	"golang.org/x/sys/unix"
)

// variant is one way of running a container.
type variant struct {
	name     string
	runtime  string // the binary called: a runtime or sysgate-runc
	policy   string // SYSGATE_CONFIG for sysgate-runc
	baseline int    // index of the bare runtime this is compared with
	// freshCache empties sysgate's cache before every start (a miss).
	freshCache string
	// crun runs from the private cgroup2 thread, without cgroup management
	// (this machine's process lacks CAP_SYS_RESOURCE for crun's device
	// eBPF program).
	crun bool
	// handoff puts sysgate's compiled program in the bundle beforehand.
	handoff bool
	// helper is the socket of a running `sysgate helper`; empty turns the
	// helper off for sysgate-runc.
	helper string
	// inProcess is the containerd shim's path (containerd-shim-sysgate-v1):
	// the policy read and shim.Prepare run in this process, already warm
	// like the shim serving a Pod, and are timed with the runtime's
	// commands, which then run directly.
	inProcess bool
}

// lifecycle is what is timed: the commands of one container start.
type lifecycle struct {
	title string
	steps func(dir, id string) [][]string
	// untimed cleans up after the timed steps.
	untimed func(id string) [][]string
}

var (
	createStartDelete = lifecycle{
		title: "create + start + delete (how containerd's shim drives a runtime)",
		steps: func(dir, id string) [][]string {
			return [][]string{{"create", "--bundle", dir, id}, {"start", id}, {"delete", "--force", id}}
		},
		untimed: func(string) [][]string { return nil },
	}
	runOnce = lifecycle{
		title:   "run (one command: create, start, wait; how the issue's crun baseline was measured)",
		steps:   func(dir, id string) [][]string { return [][]string{{"run", "--bundle", dir, id}} },
		untimed: func(id string) [][]string { return [][]string{{"delete", "--force", id}} },
	}
)

// containerSection times container starts of a RuntimeDefault container
// (rendered into the bundle, as containerd does) for each runtime, bare and
// behind sysgate-runc, with and without sysgate's resident helper.
func containerSection(binDir string, starts int) (string, error) {
	head := "## Container starts, RuntimeDefault profile (ms, wall)\n\n"
	if os.Geteuid() != 0 {
		return head, fmt.Errorf("running containers needs root")
	}
	wrapper, err := filepath.Abs(filepath.Join(binDir, "sysgate-runc"))
	if err != nil {
		return head, err
	}
	sysgate, err := filepath.Abs(filepath.Join(binDir, "sysgate"))
	if err != nil {
		return head, err
	}
	for _, b := range []string{wrapper, sysgate} {
		if _, err := os.Stat(b); err != nil {
			return head, fmt.Errorf("%s: %w (run make build)", b, err)
		}
	}
	// Bundles and runtime state on a tmpfs, as containerd and CRI-O keep
	// them under /run; the compiled-filter cache stays on disk, like the
	// policy's default /var/cache/sysgate.
	work, err := os.MkdirTemp("", "sysgate-bench-containers-")
	if err != nil {
		return head, err
	}
	defer os.RemoveAll(work)
	if err := unix.Mount("tmpfs", work, "tmpfs", 0, "mode=0700"); err != nil {
		return head, fmt.Errorf("tmpfs for bundles: %w", err)
	}
	defer unix.Unmount(work, unix.MNT_DETACH)
	caches, err := os.MkdirTemp("", "sysgate-bench-cache-")
	if err != nil {
		return head, err
	}
	defer os.RemoveAll(caches)
	runc, err := exec.LookPath("runc")
	if err != nil {
		return head, err
	}
	crun, err := exec.LookPath("crun")
	if err != nil {
		return head, err
	}
	execRunc, err := buildExecWrapper(work, runc)
	if err != nil {
		return head, err
	}
	execCrun, err := buildExecWrapper(work, crun)
	if err != nil {
		return head, err
	}
	private, err := newPrivateCgroup2()
	if err != nil {
		return head, fmt.Errorf("a mount namespace with cgroup2 for crun: %w", err)
	}
	policy := func(name, runtime, kind, cache string) (string, error) {
		path := filepath.Join(work, name+".toml")
		body := fmt.Sprintf("runtime = %q\nruntime_kind = %q\ncache_dir = %q\n", runtime, kind, cache)
		return path, os.WriteFile(path, []byte(body), 0o644)
	}
	warm := filepath.Join(caches, "cache")
	cold := filepath.Join(caches, "cold-cache")
	pRunc, err := policy("runc", runc, "runc", warm)
	if err != nil {
		return head, err
	}
	pCrun, _ := policy("crun", crun, "crun", warm)
	pCrunCold, _ := policy("crun-cold", crun, "crun", cold)
	pRuncCold, _ := policy("runc-cold", runc, "runc", cold)

	// One helper per policy, each a process in the mount namespace of the
	// runtimes it serves (the helper serves only its own namespace).
	hRunc := filepath.Join(work, "helper-runc.sock")
	hCrun := filepath.Join(work, "helper-crun.sock")
	runcHelper, err := helperproc.Start(sysgate, pRunc, hRunc)
	if err != nil {
		return head, err
	}
	defer runcHelper.Stop()
	var crunHelper *helperproc.Process
	private.do(func() { crunHelper, err = helperproc.Start(sysgate, pCrun, hCrun) })
	if err != nil {
		return head, err
	}
	defer crunHelper.Stop()

	variants := []variant{
		{name: "runc (compiles the profile itself)", runtime: runc, baseline: 0},
		{name: "crun (compiles the profile itself)", runtime: crun, baseline: 1, crun: true},
		{name: "runc behind an exec-only wrapper (what BinaryName alone costs: the least any wrapper adds)", runtime: execRunc, baseline: 0},
		{name: "sysgate-runc + runc, cache hit", runtime: wrapper, policy: pRunc, baseline: 0},
		{name: "sysgate-runc + runc, cache hit, helper", runtime: wrapper, policy: pRunc, baseline: 0, helper: hRunc},
		{name: "sysgate-runc + runc, cache miss", runtime: wrapper, policy: pRuncCold, baseline: 0, freshCache: cold},
		{name: "sysgate-runc + crun, cache hit (crun takes sysgate's program)", runtime: wrapper, policy: pCrun, baseline: 1, crun: true},
		{name: "sysgate-runc + crun, cache hit, helper", runtime: wrapper, policy: pCrun, baseline: 1, crun: true, helper: hCrun},
		{name: "sysgate-runc + crun, cache miss", runtime: wrapper, policy: pCrunCold, baseline: 1, freshCache: cold, crun: true},
		{name: "crun given sysgate's program, no wrapper (the floor)", runtime: crun, baseline: 1, crun: true, handoff: true},
		{name: "crun given sysgate's program, behind an exec-only wrapper (the floor for BinaryName)", runtime: execCrun, baseline: 1, crun: true, handoff: true},
		{name: "sysgate shim path + crun, cache hit (in-process Prepare, then crun)", runtime: crun, policy: pCrun, baseline: 1, crun: true, inProcess: true},
	}
	// A bundle per variant: sysgate-runc rewrites its bundle (and hands
	// crun its program there), which must not leak into the bare runs.
	dirs := make([]string, len(variants))
	for v := range variants {
		dirs[v] = filepath.Join(work, fmt.Sprintf("bundle%d", v))
		opts := bundle.Options{Args: []string{"true"}, Seccomp: profile.RuntimeDefault(profile.DefaultCapabilities)}
		if variants[v].handoff {
			prog, err := filter.Compile(opts.Seccomp, filter.Options{})
			if err != nil {
				return head, err
			}
			opts.Annotations = map[string]string{specbundle.AnnotationCrunBPF: base64.StdEncoding.EncodeToString(prog.Bytes())}
		}
		if _, err := bundle.Create(dirs[v], opts); err != nil {
			return head, err
		}
	}
	pristine := make([][]byte, len(variants))
	for v := range variants {
		if pristine[v], err = os.ReadFile(filepath.Join(dirs[v], "config.json")); err != nil {
			return head, err
		}
	}
	state := filepath.Join(work, "state")
	var report strings.Builder
	report.WriteString(head)
	for _, lc := range []lifecycle{createStartDelete, runOnce} {
		times := make([][]float64, len(variants))
		for i := -1; i < starts; i++ { // the first round warms caches and is not counted
			for v, va := range variants {
				// Every start gets the bundle as containerd writes it, so
				// sysgate-runc rewrites it every time.
				if err := os.WriteFile(filepath.Join(dirs[v], "config.json"), pristine[v], 0o644); err != nil {
					return report.String(), err
				}
				var d time.Duration
				var err error
				run := func() { d, err = cycle(va, lc, dirs[v], state, fmt.Sprintf("bench-%d-%d", v, i)) }
				if va.crun {
					private.do(run)
				} else {
					run()
				}
				if err != nil {
					return report.String(), fmt.Errorf("%s: %w", va.name, err)
				}
				if i >= 0 {
					times[v] = append(times[v], float64(d.Microseconds())/1000)
				}
			}
		}
		// The floor is crun given sysgate's program with no wrapper: the
		// closest any sysgate path with crun can come.
		floor := slices.IndexFunc(variants, func(va variant) bool { return va.handoff && va.runtime == crun })
		// In front of runc nothing can be handed over: the least a
		// wrapper costs there is its exec.
		execOnly := slices.IndexFunc(variants, func(va variant) bool { return va.runtime == execRunc })
		var rows [][]string
		for v, va := range variants {
			base := variants[va.baseline].name
			toFloor := ""
			switch {
			case va.crun:
				toFloor = f2(stats.Median(pairedRatios(times[v], times[floor]))) + " × floor"
			case v != va.baseline:
				toFloor = f2(stats.Median(pairedRatios(times[v], times[execOnly]))) + " × exec-only runc"
			}
			rows = append(rows, []string{va.name, f1(stats.Median(times[v])), f2(stats.Median(pairedRatios(times[v], times[va.baseline]))) + " × " + base[:4], toFloor})
		}
		report.WriteString("### " + lc.title + "\n\n" + table([]string{"variant", "ms", "ratio", "ratio to the floor"}, rows) + "\n")
	}
	fmt.Fprintf(&report, "The helper's memory after serving every start above: %s (runc's policy), %s (crun's).\n\n",
		runcHelper.Memory(), crunHelper.Memory())
	// The helper's memory after 1,000 creates (issue 21's bound: 16 MB),
	// asked over its protocol on a bundle as containerd writes it; nothing
	// runs.
	helped := slices.IndexFunc(variants, func(va variant) bool { return va.helper == hRunc })
	for i := range 1000 {
		if err := os.WriteFile(filepath.Join(dirs[helped], "config.json"), pristine[helped], 0o644); err != nil {
			return report.String(), err
		}
		kind, detail, err := runcHelper.Create(pRunc, dirs[helped], fmt.Sprintf("memory-%d", i))
		if err == nil && kind != "ok" {
			err = fmt.Errorf("%s: %s", kind, detail)
		}
		if err != nil {
			return report.String(), fmt.Errorf("the helper's create %d: %w", i, err)
		}
	}
	fmt.Fprintf(&report, "After 1,000 more creates asked over its protocol (runc's policy): %s.\n\n", runcHelper.Memory())
	report.WriteString("Bundles and runtime state are on a tmpfs, as under containerd's /run; sysgate's cache is on disk. " +
		"\"helper\" is `sysgate helper` running (docs/design.md, \"The create helper\"), which for these creates-only policies execs the lean sysgate-helper beside it; the other sysgate-runc rows start without one. " +
		"The exec-only rows run the runtime through a static C program that does nothing but exec it (integration/bench/execwrapper): what the BinaryName contract alone costs, one exec per runtime call, and so the least any wrapper can add; sysgate-runc in front of runc is set against it in the last column. " +
		"The shim path row is what containerd-shim-sysgate-v1 does: the policy read and shim.Prepare in a process that is already running (the bench itself, as the shim serving a Pod), timed with crun's commands. " +
		"crun 1.8.1 refuses this machine's hybrid cgroup layout, so every crun row runs in a private mount namespace with cgroup2 and `--cgroup-manager=disabled`.\n")
	return report.String(), nil
}

func cycle(v variant, lc lifecycle, dir, state, id string) (time.Duration, error) {
	if v.freshCache != "" {
		os.RemoveAll(v.freshCache)
	}
	global := []string{"--root", state}
	if v.crun {
		global = append(global, "--cgroup-manager=disabled")
	}
	command := func(args []string) error {
		cmd := exec.Command(v.runtime, append(global, args...)...)
		cmd.Env = append(os.Environ(), shim.HelperSocketEnv+"="+v.helper)
		if v.policy != "" && !v.inProcess {
			cmd.Env = append(cmd.Env, spec.PolicyPathEnv+"="+v.policy)
		}
		// A file, not a pipe: the created container holds its stdio open.
		out, err := os.CreateTemp("", "sysgate-bench-out-")
		if err != nil {
			return err
		}
		cmd.Stdout, cmd.Stderr = out, out
		err = cmd.Run()
		out.Close()
		text, _ := os.ReadFile(out.Name())
		os.Remove(out.Name())
		if err != nil {
			return fmt.Errorf("%v: %v\n%s", args, err, text)
		}
		return nil
	}
	start := time.Now()
	if v.inProcess {
		// What the shim's Create does before the runc shim's own: read
		// the policy, then Prepare (shim/containerd/service.go).
		policy, err := spec.LoadPolicy(v.policy)
		if err != nil {
			return 0, err
		}
		if _, err := shim.Prepare(dir, id, policy, func(string) {}); err != nil {
			return 0, fmt.Errorf("Prepare: %w", err)
		}
	}
	for _, args := range lc.steps(dir, id) {
		if err := command(args); err != nil {
			return 0, err
		}
	}
	elapsed := time.Since(start)
	for _, args := range lc.untimed(id) {
		command(args) // run has usually deleted the container already
	}
	return elapsed, nil
}

// privateCgroup2 runs functions on one OS thread that has its own mount
// namespace with cgroup2 mounted on /sys/fs/cgroup: crun 1.8.1 refuses this
// machine's hybrid cgroup layout, and processes started from that thread
// inherit its namespace. Unlike a wrapper script per call, this adds nothing
// to what is measured.
type privateCgroup2 struct{ calls chan func() }

func newPrivateCgroup2() (*privateCgroup2, error) {
	p := &privateCgroup2{calls: make(chan func())}
	ready := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the process
		err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_FS)
		if err == nil {
			err = unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, "")
		}
		if err == nil {
			err = unix.Mount("none", "/sys/fs/cgroup", "cgroup2", 0, "")
		}
		ready <- err
		if err != nil {
			return
		}
		for f := range p.calls {
			f()
		}
	}()
	return p, <-ready
}

func (p *privateCgroup2) do(f func()) {
	done := make(chan struct{})
	p.calls <- func() { f(); close(done) }
	<-done
}
