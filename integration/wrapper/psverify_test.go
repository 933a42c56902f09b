package wrapper

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/conformance/verify"
	"github.com/sysgate/sysgate/spec/profile"
)

// inventory is the JSON of sysgate ps and sysgate verify.
type inventory struct {
	Containers []*verify.Report `json:"containers"`
	Summary    string           `json:"summary"`
}

// sysgateCmd runs the sysgate command against this node's policy.
func (n *node) sysgateCmd(args ...string) (inventory, int, string) {
	n.t.Helper()
	cmd := exec.Command(sysgateBinary(n.t), append(args, "--config", n.policyPath)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		n.t.Fatal(err)
	}
	var inv inventory
	if err := json.Unmarshal(stdout.Bytes(), &inv); err != nil {
		n.t.Fatalf("sysgate %v: exit %d, output is not JSON (%v):\n%s\n%s", args, code, err, stdout.String(), stderr.String())
	}
	return inv, code, stderr.String()
}

// report is the container's line in the inventory.
func (inv inventory) report(t testing.TB, id string) *verify.Report {
	t.Helper()
	for _, r := range inv.Containers {
		if r.ID == id {
			return r
		}
	}
	// A container nothing names (a plain runtime with its own state
	// root) is listed by its cgroup, which runc names after it.
	for _, r := range inv.Containers {
		if r.ID == "" && strings.HasSuffix(r.Cgroup, "/"+id) {
			return r
		}
	}
	var ids []string
	for _, r := range inv.Containers {
		ids = append(ids, fmt.Sprintf("%s(%s)", r.ID, r.Cgroup))
	}
	t.Fatalf("container %s is not listed; listed: %v", id, ids)
	return nil
}

// detached starts a container in the background through the wrapper (or
// the bare runtime) and deletes it when the test ends.
func (n *node) detached(bare bool, opts bundle.Options) (id, dir string) {
	n.t.Helper()
	dir = n.bundle(opts)
	id = newID("psv")
	if r := n.cmd(bare, "run", "--detach", "--bundle", dir, id); r.code != 0 {
		n.t.Fatalf("run %s: %s", id, r)
	}
	n.t.Cleanup(func() { n.cmd(true, "delete", "--force", id) })
	n.waitExeced(id)
	return id, dir
}

// waitExeced waits until the container's init is no longer the runtime:
// `run --detach` returns once the runtime has let the init go, and on a
// loaded machine the init may still be the runtime's (runc:[2:INIT], or
// crun's clone) for a moment, which ps rightly calls unverified.
func (n *node) waitExeced(id string) {
	n.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var state struct{ Pid int }
		r := n.cmd(true, "state", id)
		if err := json.Unmarshal([]byte(r.stdout), &state); err == nil && state.Pid > 0 {
			data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", state.Pid))
			if comm := strings.TrimSpace(string(data)); comm != "" && comm != "crun" && !strings.HasPrefix(comm, "runc:") {
				return
			}
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("container %s: its init is still the runtime after 30 s: %s", id, r)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// withLog is a policy line: this node's decision log.
func withLog(t testing.TB) string {
	return fmt.Sprintf("decision_log = %q", filepath.Join(t.TempDir(), "decisions.jsonl"))
}

var sleeper = []string{"sleep", "1000"}

// Containers through runc, through crun handed sysgate's program and
// through crun compiling the profile itself: ps lists each with its
// decision, the init's filter and status equal, and verify --all proves
// every thread holds the decided filter, each in the form its runtime
// loads it.
func TestPsAndVerifyThroughRuntimes(t *testing.T) {
	requireRoot(t)
	type setup struct {
		name    string
		rt      runtime
		kind    string // runtime_kind
		matched string
	}
	var setups []setup
	for _, rt := range runtimes(t) {
		if rt.name == "runc" {
			setups = append(setups, setup{"runc", rt, "runc", "the decided profile: sysgate's program, or the runtime's own compile of it with an ENOSYS stub (runc)"})
		} else {
			setups = append(setups, setup{"crun handed sysgate's program", rt, "crun", "sysgate's program, handed to crun"},
				setup{"crun compiling the profile", rt, "runc", "the decided profile compiled by the runtime without an ENOSYS stub (crun)"})
		}
	}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			n := newNode(t, s.rt, fmt.Sprintf("runtime_kind = %q\n%s", s.kind, withLog(t)))
			id, dir := n.detached(false, bundle.Options{Args: sleeper})

			ps, code, stderr := n.sysgateCmd("ps", "--output", "json")
			r := ps.report(t, id)
			if code != 0 || r.Class != verify.ClassSysgate || r.Seccomp != "filter" || r.Filters != 1 || r.Status != verify.StatusEqual ||
				r.Decision == nil || r.Decision.Type != profile.TypeRuntimeDefault || r.Decision.Source != "node default" || r.Bundle != realPath(t, dir) {
				t.Errorf("ps (exit %d): %s\n%s", code, dumpReport(r), stderr)
			}
			if !strings.Contains(ps.Summary, "confined by sysgate") {
				t.Errorf("summary %q", ps.Summary)
			}

			all, code, stderr := n.sysgateCmd("verify", "--all", "--output", "json")
			r = all.report(t, id)
			if r.Status != verify.StatusEqual || r.Matched != s.matched || r.Checked < 1 {
				t.Errorf("verify --all: %s\n%s", dumpReport(r), stderr)
			}
			// Other sessions' containers share this machine: the exit
			// status must be what the reports say, and ours must not fail it.
			if want := verify.Failed(all.Containers); (code != 0) != want {
				t.Errorf("verify --all exited %d, but its reports say failed=%v", code, want)
			}
			one, code, _ := n.sysgateCmd("verify", id, "--output", "json")
			if code != 0 || len(one.Containers) != 1 || one.Containers[0].Status != verify.StatusEqual {
				t.Errorf("verify %s: exit %d, %+v", id, code, one.Containers)
			}
		})
	}
}

func realPath(t testing.TB, dir string) string {
	p, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func dumpReport(r *verify.Report) string {
	data, _ := json.MarshalIndent(r, "", "  ")
	return string(data)
}

// A container sysgate prepared but that runs with another profile (the
// bundle edited, then started by plain runc under the same id): verify
// names the syscalls whose verdicts differ.
func TestVerifyCatchesAnotherProfile(t *testing.T) {
	requireRoot(t)
	rt := runtimes(t)[0]
	n := newNode(t, rt, withLog(t))
	dir := n.bundle(bundle.Options{Args: sleeper})
	id := newID("other")
	if r := n.cmd(false, "create", "--bundle", dir, id); r.code != 0 {
		t.Fatalf("create: %s", r)
	}
	n.cmd(true, "delete", "--force", id)
	// The profile sysgate wrote, with mkdir no longer allowed (the
	// default, EPERM, applies): what a client bypassing sysgate might
	// start the container with.
	editSeccomp(t, dir, func(p *specs.LinuxSeccomp) {
		for i := range p.Syscalls {
			p.Syscalls[i].Names = without(p.Syscalls[i].Names, "mkdir", "mkdirat")
		}
	})
	if r := n.cmd(true, "run", "--detach", "--bundle", dir, id); r.code != 0 {
		t.Fatalf("plain %s run: %s", rt.name, r)
	}
	t.Cleanup(func() { n.cmd(true, "delete", "--force", id) })
	// `run --detach` returns before the init has exec'd the workload.
	n.waitExeced(id)

	inv, code, stderr := n.sysgateCmd("verify", id, "--output", "json")
	r := inv.report(t, id)
	text := dumpReport(r)
	if code != 1 || r.Status != verify.StatusDiffers || len(r.Threads) == 0 || r.Threads[0].Comparison == nil {
		t.Fatalf("verify: exit %d, want 1 and differs:\n%s\n%s", code, text, stderr)
	}
	c := r.Threads[0].Comparison
	if !strings.Contains(strings.Join(c.Findings, "\n"), "another source") {
		t.Errorf("findings %v: want a filter from another source", c.Findings)
	}
	var got []string
	for _, d := range c.Differences {
		got = append(got, d.String())
	}
	for _, want := range []string{"x86_64 mkdir (83): installed SCMP_ACT_ERRNO(1), decided SCMP_ACT_ALLOW", "x86 mkdir (39)", "x32 mkdirat (258)"} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("differences lack %q:\n%s", want, strings.Join(got, "\n"))
		}
	}
	out, _ := exec.Command(sysgateBinary(t), "verify", id, "--config", n.policyPath).Output()
	t.Logf("sysgate verify %s:\n%s", id, out)
	if len(got) > 12 {
		t.Errorf("%d differences for two syscalls on three ABIs:\n%s", len(got), strings.Join(got, "\n"))
	}
}

func without(names []string, drop ...string) []string {
	var out []string
	for _, n := range names {
		if !contains(drop, n) {
			out = append(out, n)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// editSeccomp rewrites the bundle's linux.seccomp.
func editSeccomp(t testing.TB, dir string, edit func(*specs.LinuxSeccomp)) {
	t.Helper()
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	edit(s.Linux.Seccomp)
	if data, err = json.Marshal(&s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

var (
	staticOnce sync.Once
	staticPath string
	staticErr  error
)

// staticSysgate builds sysgate statically, to run inside a busybox
// container.
func staticSysgate(t testing.TB) string {
	t.Helper()
	wrapper(t) // makes toolsDir
	staticOnce.Do(func() {
		staticPath = filepath.Join(toolsDir, "sysgate-static")
		out, err := exec.Command("go", "build", "-tags", "netgo,osusergo", "-ldflags", "-linkmode external -extldflags -static",
			"-o", staticPath, "github.com/sysgate/sysgate/cmd/sysgate").CombinedOutput()
		if err != nil {
			staticErr = fmt.Errorf("go build sysgate (static): %v\n%s", err, out)
		}
	})
	if staticErr != nil {
		t.Fatal(staticErr)
	}
	return staticPath
}

// A process inside the container stacks a filter of its own (sysgate exec
// with a profile that denies mkdir) beside the init: ps sees its filter
// count differ from the init's, and verify reads it and says the extra
// filter was stacked on top, with the verdicts it changes.
func TestVerifyCatchesAStackedFilter(t *testing.T) {
	requireRoot(t)
	denyMkdir := filepath.Join(t.TempDir(), "deny-mkdir.json")
	if err := os.WriteFile(denyMkdir, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, rt := range runtimes(t) {
		t.Run(rt.name, func(t *testing.T) {
			n := newNode(t, rt, withLog(t))
			id, _ := n.detached(false, bundle.Options{
				Args:  []string{"sh", "-c", "/bin/sysgate exec --profile /deny-mkdir.json -- sleep 1000 & exec sleep 1000"},
				Files: map[string]string{"/bin/sysgate": staticSysgate(t), "/deny-mkdir.json": denyMkdir},
			})
			var ps inventory
			var r *verify.Report
			for deadline := time.Now().Add(10 * time.Second); ; {
				ps, _, _ = n.sysgateCmd("ps", "--output", "json")
				if r = ps.report(t, id); r.Processes == 2 && r.Status == verify.StatusDiffers || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if r.Status != verify.StatusDiffers || r.Filters != 1 || !strings.Contains(r.Problem, "holds 2 filter(s)") {
				t.Errorf("ps: %s", dumpReport(r))
			}

			inv, code, stderr := n.sysgateCmd("verify", id, "--output", "json")
			r = inv.report(t, id)
			if code != 1 || r.Status != verify.StatusDiffers {
				t.Fatalf("verify: exit %d:\n%s\n%s", code, dumpReport(r), stderr)
			}
			var stacked *verify.Comparison
			for _, th := range r.Threads {
				if th.Comparison != nil && th.Comparison.Filters == 2 {
					stacked = th.Comparison
				}
			}
			if stacked == nil || stacked.Matched == "" || !strings.Contains(strings.Join(stacked.Findings, "\n"), "filter 1 of 2 was stacked on top") {
				t.Fatalf("no thread with the stacked filter found:\n%s", dumpReport(r))
			}
			var diffs []string
			for _, d := range stacked.Differences {
				diffs = append(diffs, d.String())
			}
			if !strings.Contains(strings.Join(diffs, "\n"), "x86_64 mkdir (83): installed SCMP_ACT_ERRNO(1), decided SCMP_ACT_ALLOW") {
				t.Errorf("differences of the stacked thread:\n%s", strings.Join(diffs, "\n"))
			}
			text, _ := exec.Command(sysgateBinary(t), "verify", id, "--config", n.policyPath).Output()
			t.Logf("sysgate verify %s:\n%s", id, text)
			// The init's threads still hold exactly the decided filter.
			for _, th := range r.Threads {
				if th.PID == r.InitPID {
					t.Errorf("the init process is reported: %+v", th)
				}
			}
		})
	}
}

// Unconfined containers are marked: one sysgate decided unconfined
// (holding exactly that, so equal), one a plain runc started without a
// profile (never decided).
func TestPsMarksUnconfined(t *testing.T) {
	requireRoot(t)
	rt := runtimes(t)[0]
	n := newNode(t, rt, `default = "unconfined"`+"\n"+withLog(t))
	decided, _ := n.detached(false, bundle.Options{Args: sleeper})
	plain, _ := n.detached(true, bundle.Options{Args: sleeper})

	ps, _, _ := n.sysgateCmd("ps", "--output", "json")
	r := ps.report(t, decided)
	if r.Class != verify.ClassUnconfined || r.Seccomp != "disabled" || r.Decision == nil || r.Decision.Type != profile.TypeUnconfined || r.Status != verify.StatusEqual {
		t.Errorf("decided unconfined: %s", dumpReport(r))
	}
	r = ps.report(t, plain)
	if r.Class != verify.ClassUnconfined || r.Decision != nil || r.Status != verify.StatusNotDecided {
		t.Errorf("plain runc, no profile: %s", dumpReport(r))
	}
	if !strings.Contains(ps.Summary, "unconfined") {
		t.Errorf("summary %q", ps.Summary)
	}
	// The table says so too.
	out, _ := exec.Command(sysgateBinary(t), "ps", "--config", n.policyPath).Output()
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "/"+plain+",") && (!strings.Contains(line, "disabled") || !strings.Contains(line, "not decided by sysgate")) {
			t.Errorf("table line for the plain container: %q", line)
		}
	}
}

// ps --drift shows a container whose Localhost profile was edited after
// it started; verify still proves the filter it holds is the decided one.
func TestPsDriftAfterLocalhostEdit(t *testing.T) {
	requireRoot(t)
	rt := runtimes(t)[0]
	n := newNode(t, rt, withLog(t))
	rd := profile.RuntimeDefault(profile.DefaultCapabilities)
	n.addProfile("profiles/drift.json", rd)
	id, _ := n.detached(false, bundle.Options{Args: sleeper,
		Annotations: map[string]string{"seccomp.security.alpha.kubernetes.io/pod": "localhost/profiles/drift.json"}})

	ps, _, _ := n.sysgateCmd("ps", "--output", "json", "--drift")
	r := ps.report(t, id)
	if r.Decision == nil || r.Decision.Type != profile.TypeLocalhost || r.Drift == nil || r.Drift.Changed || r.Status != verify.StatusEqual {
		t.Fatalf("before the edit: %s", dumpReport(r))
	}
	edited := *rd
	edited.Syscalls = append([]specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno}}, rd.Syscalls...)
	n.addProfile("profiles/drift.json", &edited)

	ps, _, _ = n.sysgateCmd("ps", "--output", "json", "--drift")
	r = ps.report(t, id)
	if r.Drift == nil || !r.Drift.Changed || !strings.Contains(r.Drift.Reason, "profiles/drift.json was edited") || r.Drift.Now == nil || r.Drift.Now.Digest == r.Decision.Digest {
		t.Errorf("after the edit: %s", dumpReport(r))
	}
	if r.Status != verify.StatusEqual {
		t.Errorf("the running container still holds its decided filter: %s", dumpReport(r))
	}
	out, _ := exec.Command(sysgateBinary(t), "ps", "--drift", "--config", n.policyPath).Output()
	if !strings.Contains(string(out), id+": drift: the Localhost profile") {
		t.Errorf("the table does not show the drift:\n%s", out)
	}
}

// A container created but not started is not yet running its workload
// (crun loads the filter only at start): unverified, never equal, never
// differs.
func TestVerifyCreatedContainer(t *testing.T) {
	requireRoot(t)
	for _, rt := range runtimes(t) {
		t.Run(rt.name, func(t *testing.T) {
			n := newNode(t, rt, withLog(t))
			dir := n.bundle(bundle.Options{Args: sleeper})
			id := newID("created")
			if r := n.cmd(false, "create", "--bundle", dir, id); r.code != 0 {
				t.Fatalf("create: %s", r)
			}
			t.Cleanup(func() { n.cmd(true, "delete", "--force", id) })
			inv, code, _ := n.sysgateCmd("verify", id, "--output", "json")
			r := inv.report(t, id)
			if code != 1 || r.Status != verify.StatusUnverified || !strings.Contains(r.Problem, "created but not started") {
				t.Errorf("verify of a created container: exit %d\n%s", code, dumpReport(r))
			}
		})
	}
}
