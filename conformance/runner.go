package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/conformance/probe"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/bpf"
)

// probeInContainer is where the probe lives in every bundle; its comm, in
// audit records, is the file name.
const (
	probeInContainer = "/bin/" + probe.BinaryName
	probeComm        = probe.BinaryName
)

// DefaultCaseTimeout bounds one case: creating, running and deleting its
// container.
const DefaultCaseTimeout = 30 * time.Second

// Runner runs cases through one runtime.
type Runner struct {
	Runtime Runtime
	// Probe is the static sysgate-probe binary copied into each bundle.
	Probe string
	// WorkDir holds bundles, agent sockets and the runtime's state; empty
	// means a temporary directory, removed afterwards.
	WorkDir string
	// CaseTimeout bounds each case; zero means DefaultCaseTimeout.
	CaseTimeout time.Duration
	// Deviations turn failures the runtime is known for into XFAIL.
	Deviations Deviations
	// Progress, if set, receives one line per finished case.
	Progress func(Result)
	// Suite names the suite's build (sysgate's version) in the report.
	Suite string

	env environment
}

// environment is what the machine can show, found once per run.
type environment struct {
	auditMissing  string // why audit records cannot be seen, or ""
	notifyMissing string // why SCMP_ACT_NOTIFY cannot work, or ""
	x32Missing    string // why x32 outcomes are ambiguous, or ""
	i386Missing   string // why i386 calls cannot be made, or ""
}

// Run runs the cases in order, one container each, and reports.
func (r *Runner) Run(ctx context.Context, cases []Case) (*Report, error) {
	started := time.Now()
	if _, err := os.Stat(r.Probe); err != nil {
		return nil, fmt.Errorf("the syscall probe: %w", err)
	}
	work := r.WorkDir
	if work == "" {
		dir, err := os.MkdirTemp("", "sysgate-conformance-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		work = dir
	}
	work, err := filepath.Abs(work)
	if err != nil {
		return nil, err
	}
	rt := r.Runtime
	if rt.Root, err = stateDir(work); err != nil {
		return nil, err
	}
	r.env = probeEnvironment()
	rep := &Report{
		Suite:          r.Suite,
		Runtime:        rt.Path,
		RuntimeArgs:    rt.Args,
		RuntimeVersion: rt.Version(ctx),
		Kernel:         kernelRelease(),
		Libseccomp:     filter.LibseccompVersion(),
		Date:           started.UTC().Format(time.RFC3339),
	}
	for i, c := range cases {
		if err := c.check(); err != nil {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		res := r.runCase(ctx, rt, work, i, c)
		rep.add(res)
		if r.Progress != nil {
			r.Progress(res)
		}
	}
	rep.Duration = time.Since(started)
	return rep, nil
}

// runCase runs one case, and again (up to auditRetries times, each after
// the rate-limit window) when only an audit record was missing: the
// kernel's rate limit is the whole node's, and on a busy node (other
// containers' denials, logged since log_denials) one window is not always
// enough.
func (r *Runner) runCase(ctx context.Context, rt Runtime, work string, i int, c Case) Result {
	start := time.Now()
	res := Result{Case: c.Name, Rule: c.Rule, Summary: c.Summary, Expected: c.Want.String()}
	if why := r.skipReason(c); why != "" {
		res.Verdict, res.Detail = Skip, why
		res.Duration = time.Since(start)
		return res
	}
	obs := r.observe(ctx, rt, work, i, c, 0)
	for try := 1; try <= auditRetries && c.Want.Audited && !obs.audited && c.Want.matches(obs.outcome, true); try++ {
		time.Sleep(auditRateWindow)
		obs = r.observe(ctx, rt, work, i, c, try)
	}
	res.Observed, res.Detail = obs.String(), obs.detail
	res.Verdict = Fail
	if obs.err == nil && c.Want.matches(obs.outcome, obs.audited) {
		res.Verdict = Pass
	}
	if reason, listed := r.Deviations.Lookup(c.Name); listed {
		res.Deviation = reason
		switch res.Verdict {
		case Fail:
			res.Verdict = XFail
		case Pass:
			res.Verdict = XPass
		}
	}
	res.Duration = time.Since(start)
	return res
}

func (r *Runner) skipReason(c Case) string {
	if c.Want.Audited && r.env.auditMissing != "" {
		return "cannot see seccomp audit records: " + r.env.auditMissing
	}
	if c.Profile != nil && c.Profile.ListenerPath == ListenerAgent && r.env.notifyMissing != "" {
		return r.env.notifyMissing
	}
	if c.NeedsX32 && r.env.x32Missing != "" {
		return r.env.x32Missing
	}
	if c.Do.ABI == probe.ABII386 && r.env.i386Missing != "" {
		return r.env.i386Missing
	}
	return ""
}

// observation is what one container run showed.
type observation struct {
	outcome string // as Expect compares it
	audited bool   // a seccomp audit record of the call was seen
	detail  string // the runtime's error message, agent problems
	err     error  // the suite itself failed (timeout, bundle)
}

func (o observation) String() string {
	if o.err != nil {
		return "error"
	}
	if o.audited {
		return o.outcome + auditedSuffix
	}
	return o.outcome
}

// observe builds the case's bundle, runs it and classifies what happened.
func (r *Runner) observe(ctx context.Context, rt Runtime, work string, i int, c Case, attempt int) observation {
	ctx, cancel := context.WithTimeout(ctx, r.caseTimeout())
	defer cancel()
	dir := filepath.Join(work, fmt.Sprintf("%03d-%d", i, attempt))
	bundleDir := filepath.Join(dir, "bundle")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return observation{err: err, detail: err.Error()}
	}
	defer os.RemoveAll(dir)
	// The state directory is private to the run, so ids only need to be
	// unique within it; keeping them free of pids keeps reports stable.
	id := fmt.Sprintf("conformance-%d-%d", i, attempt)

	argv, nr, err := c.Do.argv()
	if err != nil {
		return observation{err: err, detail: err.Error()}
	}
	profile, agentPath := withListener(c.Profile, dir)
	opts := bundle.Options{Args: argv, Seccomp: profile, Files: map[string]string{probeInContainer: r.Probe}}
	if c.Do.Exec {
		opts.Args = []string{"sleep", "600"}
	}
	if _, err := bundle.Create(bundleDir, opts); err != nil {
		return observation{err: err, detail: "building the bundle: " + err.Error()}
	}

	var audit *auditLog
	if c.Want.Audited {
		if audit, err = openAuditLog(); err != nil {
			return observation{err: err, detail: err.Error()}
		}
		defer audit.close()
	}
	// The agent starts last: from here on, stop always runs.
	var ag *agent
	if agentPath != "" {
		if ag, err = startAgent(agentPath, id, bundleDir); err != nil {
			return observation{err: err, detail: err.Error()}
		}
	}

	var inv invocation
	started := true
	if c.Do.Exec {
		inv, started, err = rt.execIn(ctx, bundleDir, id, argv)
	} else {
		inv, err = rt.runOnce(ctx, bundleDir, id)
	}
	var obs observation
	switch {
	case err != nil:
		obs = observation{err: err, detail: err.Error()}
	case !started:
		obs = observation{outcome: OutcomeRefused, detail: inv.errorLine()}
	default:
		obs = classify(c.Do.Kind, inv)
	}
	obs.detail = tidyMessage(obs.detail, work)
	if ag != nil {
		if problems := ag.stop(agentPath); len(problems) > 0 && obs.outcome != OutcomeRefused {
			obs.outcome += "; agent: " + tidyMessage(strings.Join(problems, "; "), work)
		}
	}
	if audit != nil && obs.err == nil {
		obs.audited = audit.find(probeComm, nr)
	}
	return obs
}

func (r *Runner) caseTimeout() time.Duration {
	if r.CaseTimeout > 0 {
		return r.CaseTimeout
	}
	return DefaultCaseTimeout
}

// classify turns a finished process into an outcome. Without a report from
// the probe, a status up to 128 that the probe did not explain (its own
// messages start with its name) means the runtime did not run the process:
// refused.
func classify(kind ActionKind, inv invocation) observation {
	switch kind {
	case Shell:
		out := strings.TrimSpace(string(inv.stderr) + string(inv.stdout))
		if inv.status == 0 || out == "" {
			return observation{outcome: "exit:" + strconv.Itoa(inv.status)}
		}
		lines := strings.Split(out, "\n")
		return observation{outcome: fmt.Sprintf("exit:%d: %s", inv.status, strings.TrimSpace(lines[0]))}
	case Status:
		if st, err := probe.ParseStatus(inv.stdout); err == nil && inv.status == 0 {
			return observation{outcome: "seccomp:" + strconv.Itoa(st.Seccomp)}
		}
	default:
		res, err := probe.ParseExitStatus(inv.stdout, inv.status)
		if err == nil {
			return observation{outcome: res.Outcome()}
		}
		if res.KilledBy != "" {
			return observation{outcome: "killed:" + res.KilledBy}
		}
	}
	if strings.Contains(string(inv.stderr), probe.BinaryName+":") {
		return observation{outcome: "probe-error", detail: inv.errorLine()}
	}
	if inv.status > 128 {
		return observation{outcome: "exit:" + strconv.Itoa(inv.status), detail: inv.errorLine()}
	}
	return observation{outcome: OutcomeRefused, detail: inv.errorLine()}
}

// argv is the container's command line for the action, and the native
// syscall number an audit record would show.
func (a Action) argv() (argv []string, nr int64, err error) {
	switch a.Kind {
	case Status:
		return []string{probeInContainer, "--status"}, -1, nil
	case Shell:
		return a.Command, -1, nil
	}
	abi := a.ABI
	if abi == "" {
		abi = probe.ABINative
	}
	arch := map[string]specs.Arch{probe.ABINative: specs.ArchX86_64, probe.ABII386: specs.ArchX86, probe.ABIX32: specs.ArchX32}[abi]
	if arch == "" {
		return nil, 0, fmt.Errorf("unknown ABI %q", a.ABI)
	}
	n, ok := filter.SyscallNumber(a.Syscall, arch)
	if !ok {
		return nil, 0, fmt.Errorf("%s has no number on %s in sysgate's syscall table", a.Syscall, arch)
	}
	// The probe takes x32 numbers without the x32 bit and sets it itself;
	// the kernel's audit record shows it set.
	call := int64(n) &^ probeX32Bit
	argv = append([]string{probeInContainer, "--abi", abi, strconv.FormatInt(call, 10)}, a.Args...)
	return argv, int64(n), nil
}

// probeX32Bit is __X32_SYSCALL_BIT.
const probeX32Bit = 0x40000000

// withListener replaces the listenerPath placeholders: a copy of p, and
// the agent's socket path when the case needs the agent.
func withListener(p *specs.LinuxSeccomp, dir string) (*specs.LinuxSeccomp, string) {
	if p == nil {
		return nil, ""
	}
	switch p.ListenerPath {
	case ListenerAgent:
		c := *p
		c.ListenerPath = filepath.Join(dir, "agent.sock")
		return &c, c.ListenerPath
	case ListenerMissing:
		c := *p
		c.ListenerPath = filepath.Join(dir, "nothing-listens.sock")
		return &c, ""
	}
	return p, ""
}

// probeEnvironment finds what this machine cannot show.
func probeEnvironment() environment {
	env := environment{auditMissing: auditPossible()}
	if !filter.KernelActionSupported(bpf.RetUserNotif) {
		env.notifyMissing = "the kernel does not implement SECCOMP_RET_USER_NOTIF (Linux >= 5.0)"
	}
	// Without x32 an x32 call the filter passes fails with ENOSYS from the
	// kernel, and the outcome cannot tell the two apart.
	if x32 := filter.HostABI(filter.ABIX32); !x32.Live {
		env.x32Missing = "kernel has no x32 ABI (CONFIG_X86_X32_ABI, syscall.x32=y), so an x32 call the filter passes also fails with ENOSYS and the outcome cannot tell them apart"
		if x32.Reason != "x32 ABI off" {
			env.x32Missing = "cannot tell whether the kernel has x32: " + x32.Reason
		}
	}
	// Without IA-32 emulation int $0x80 faults before seccomp sees it.
	if i386 := filter.HostABI(filter.ABII386); !i386.Live {
		env.i386Missing = "kernel has no IA-32 emulation: int $0x80 faults before seccomp sees it"
		if !strings.HasPrefix(i386.Reason, "IA-32 emulation off") {
			env.i386Missing = "cannot make i386 calls: " + i386.Reason
		}
	}
	return env
}

func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// logrusMsg is the message of a runc error in logrus's text format:
// time="..." level=error msg="...".
var logrusMsg = regexp.MustCompile(`^time="[^"]*" level=\w+ msg="(.*)"$`)

// tidyMessage keeps what a runtime says and drops what differs between
// identical runs (timestamps, the temporary work directory), so that the
// committed reports change only when behaviour does.
func tidyMessage(msg, work string) string {
	if m := logrusMsg.FindStringSubmatch(msg); m != nil {
		if unq, err := strconv.Unquote(`"` + m[1] + `"`); err == nil {
			msg = unq
		} else {
			msg = m[1]
		}
	}
	return strings.ReplaceAll(msg, work, "$WORK")
}
