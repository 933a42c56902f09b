package wrapper

import (
	"encoding/json"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/conformance/verify"
	"github.com/sysgate/sysgate/spec/profile"
)

// scaleContainers is how many containers the scale test runs.
const scaleContainers = 100

// TestPsVerifyScale runs 100 containers through sysgate-runc and runc, in
// three profiles (RuntimeDefault and two Localhost ones), and reports how
// long `sysgate ps` and `sysgate verify --all` take over the whole node,
// each run as its own process as an operator would (the median of five
// runs). It prints the numbers and asserts only that every container was
// verified equal: times depend on the machine.
func TestPsVerifyScale(t *testing.T) {
	requireRoot(t)
	if testing.Short() {
		t.Skip("starts 100 containers (about half a minute)")
	}
	rt := runtimes(t)[0]
	n := newNode(t, rt, withLog(t))
	rd := profile.RuntimeDefault(profile.DefaultCapabilities)
	for i, name := range []string{"profiles/a.json", "profiles/b.json"} {
		p := *rd
		p.Syscalls = append([]specs.LinuxSyscall{{Names: []string{[]string{"mkdir", "chmod"}[i]}, Action: specs.ActErrno}}, rd.Syscalls...)
		n.addProfile(name, &p)
	}
	start := time.Now()
	ids := map[string]bool{}
	for i := range scaleContainers {
		opts := bundle.Options{Args: sleeper}
		if ref := []string{"", "localhost/profiles/a.json", "localhost/profiles/b.json"}[i%3]; ref != "" {
			opts.Annotations = map[string]string{"seccomp.security.alpha.kubernetes.io/pod": ref}
		}
		b := n.t.TempDir()
		if _, err := bundle.Create(b, opts); err != nil {
			t.Fatal(err)
		}
		id := newID("scale")
		if r := n.cmd(false, "run", "--detach", "--bundle", b, id); r.code != 0 {
			t.Fatalf("container %d: %s", i, r)
		}
		n.t.Cleanup(func() { n.cmd(true, "delete", "--force", id) })
		ids[id] = true
	}
	t.Logf("started %d containers in %v", scaleContainers, time.Since(start).Round(time.Millisecond))
	for id := range ids {
		n.waitExeced(id) // the last ones may still be the runtime's init
	}

	for _, args := range [][]string{{"ps"}, {"verify", "--all"}} {
		var times, cpu []time.Duration
		var last inventory
		for range 5 {
			cmd := exec.Command(sysgateBinary(t), append(args, "--output", "json", "--config", n.policyPath)...)
			t0 := time.Now()
			out, err := cmd.Output()
			times = append(times, time.Since(t0))
			cpu = append(cpu, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
			if err := json.Unmarshal(out, &last); err != nil {
				t.Fatalf("sysgate %v: %v\n%s", args, err, out)
			}
			if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
				t.Logf("%v: %s", args, ee.Stderr)
			}
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		sort.Slice(cpu, func(i, j int) bool { return cpu[i] < cpu[j] })
		equal := 0
		for _, r := range last.Containers {
			if ids[r.ID] && r.Status == verify.StatusEqual {
				equal++
			}
		}
		if equal != scaleContainers {
			t.Errorf("%v: %d of our %d containers verified equal", args, equal, scaleContainers)
		}
		t.Logf("sysgate %v over %d containers (%d of them this test's): wall median %v (min %v, max %v), CPU median %v; load %s",
			args, len(last.Containers), scaleContainers, times[2].Round(time.Millisecond), times[0].Round(time.Millisecond), times[4].Round(time.Millisecond),
			cpu[2].Round(time.Millisecond), loadAverage())
	}
	// The table is what an operator reads; time it too.
	t0 := time.Now()
	if out, err := exec.Command(sysgateBinary(t), "ps", "--config", n.policyPath).CombinedOutput(); err != nil {
		t.Errorf("sysgate ps: %v\n%s", err, out)
	}
	t.Logf("sysgate ps (table): %v", time.Since(t0).Round(time.Millisecond))
}

// loadAverage is the machine's 1-minute load: the machine is shared, and
// wall times mean little without it.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(data))[0]
}
