package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeProc is a procfs with the files Discover reads.
type fakeProc struct {
	t    *testing.T
	root string
}

func newFakeProc(t *testing.T, hostNS uint64) *fakeProc {
	f := &fakeProc{t: t, root: t.TempDir()}
	old := ProcRoot
	ProcRoot = f.root
	t.Cleanup(func() { ProcRoot = old })
	f.nsLink("self", hostNS)
	return f
}

func (f *fakeProc) nsLink(pid string, ns uint64) {
	dir := filepath.Join(f.root, pid, "ns")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Symlink(fmt.Sprintf("pid:[%d]", ns), filepath.Join(dir, "pid")); err != nil {
		f.t.Fatal(err)
	}
}

// process adds a process: its PID namespace, start time, seccomp state
// and cgroup file.
func (f *fakeProc) process(pid, ppid int, ns, start uint64, mode, filters int, cgroup string) {
	f.nsLink(fmt.Sprint(pid), ns)
	dir := filepath.Join(f.root, fmt.Sprint(pid))
	status := fmt.Sprintf("Name:\tsh\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\nNSpid:\t%d\t1\nCapBnd:\t00000000a80425fb\nNoNewPrivs:\t1\nSeccomp:\t%d\nSeccomp_filters:\t%d\n", pid, pid, ppid, pid, mode, filters)
	// The command name holds ") " to check that stat is read past it.
	stat := fmt.Sprintf("%d (a) b) S %d 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 %d 0 0\n", pid, ppid, start)
	for name, body := range map[string]string{"status": status, "stat": stat, "cgroup": cgroup} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
}

func TestDiscover(t *testing.T) {
	const host, nsA, nsB = 1, 2, 3
	id := strings.Repeat("ab", 32)
	f := newFakeProc(t, host)
	cg := func(path string) string { return "1:name=systemd:" + path + "\n0::" + path + "\n" }
	// A containerd container found by its cgroup, with two processes;
	// the oldest is init whatever its pid.
	f.process(500, 400, nsA, 1000, 2, 1, cg("/kubepods/besteffort/pod0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/"+id))
	f.process(600, 500, nsA, 900, 2, 1, cg("/kubepods/besteffort/pod0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/"+id))
	// crun without cgroup management: in its caller's cgroup, found by its
	// PID namespace.
	f.process(700, 300, nsB, 2000, 0, 0, cg("/user.slice"))
	// The host's own processes.
	f.process(1, 0, host, 1, 0, 0, cg("/"))
	f.process(300, 1, host, 50, 0, 0, cg("/user.slice"))

	scan, err := Discover()
	if err != nil {
		t.Fatal(err)
	}
	if len(scan.Containers) != 2 {
		t.Fatalf("%d containers, want 2: %+v", len(scan.Containers), scan.Containers)
	}
	k8s, crun := scan.Containers[0], scan.Containers[1]
	if k8s.ID != id || k8s.Init.TID != 600 || len(k8s.Processes) != 2 || k8s.Init.SeccompMode != 2 || k8s.Init.Filters != 1 || k8s.Init.StartTicks != 900 {
		t.Errorf("the kubelet's container: %+v", k8s)
	}
	if crun.ID != "" || crun.Key != "pidns:3" || crun.Cgroup != "/user.slice" || crun.Init.TID != 700 || crun.Init.SeccompMode != 0 {
		t.Errorf("the container without a cgroup: %+v", crun)
	}

	scan.JoinRuntimeStates([]RuntimeState{
		{Runtime: "crun", ID: "reused", PID: 700, StartTicks: 1999, Bundle: "/old"}, // the pid, not the process
		{Runtime: "crun", ID: "c1", PID: 700, StartTicks: 2000, Bundle: "/b"},
		{Runtime: "runc", ID: "other", PID: 600, Bundle: "/x"}, // disagrees with the cgroup's id
	})
	if crun.ID != "c1" || crun.Bundle != "/b" || crun.Runtime != "crun" {
		t.Errorf("crun's state was not joined by pid and start time: %+v", crun)
	}
	if k8s.ID != id || k8s.Bundle != "" {
		t.Errorf("a runtime state overrode the cgroup's id: %+v", k8s)
	}
}

func TestReadRuntimeStates(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("runc/r1/state.json", `{"init_process_pid":10,"init_process_start":77,"config":{"labels":["bundle=/b/r1"]}}`)
	write("crun/c1/status", `{"pid":11,"process-start-time":78,"bundle":"/b/c1"}`)
	write("task/k8s.io/t1/init.pid", "12\n")
	write("crun/broken/status", `{"pid":`)
	states := ReadRuntimeStates([]StateRoot{{"runc", filepath.Join(dir, "runc")}, {"crun", filepath.Join(dir, "crun")}, {"containerd", filepath.Join(dir, "task", "*")}})
	want := []RuntimeState{
		{"runc", "r1", 10, 77, "/b/r1"},
		{"crun", "c1", 11, 78, "/b/c1"},
		{"containerd", "t1", 12, 0, filepath.Join(dir, "task", "k8s.io", "t1")},
	}
	if fmt.Sprint(states) != fmt.Sprint(want) {
		t.Errorf("states:\n%v\nwant\n%v", states, want)
	}
}

func TestParseStatus(t *testing.T) {
	var task Task
	err := task.parseStatus([]byte("Name:\trunc:[2:INIT]\nTgid:\t7\nPPid:\t1\nTracerPid:\t42\nNSpid:\t7\t3\t1\nSeccomp:\t2\nSeccomp_filters:\t3\nNoNewPrivs:\t1\nCapBnd:\t000001ffffffffff\n"))
	if err != nil || task.Name != "runc:[2:INIT]" || task.TGID != 7 || task.TracerPID != 42 || fmt.Sprint(task.NSpid) != "[7 3 1]" || task.SeccompMode != 2 || task.Filters != 3 || !task.NoNewPrivs || task.CapBnd != 0x1ffffffffff {
		t.Errorf("parsed %+v, %v", task, err)
	}
	if err := new(Task).parseStatus([]byte("Seccomp:\tx\n")); err == nil {
		t.Error("a bad Seccomp value was accepted")
	}
}

// A process started now started, by the wall clock, about now.
func TestStarted(t *testing.T) {
	task, err := ReadTask(0, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	started, err := task.Started()
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(started); d < -2*time.Second || d > time.Minute {
		t.Errorf("this test process started %v ago by Started", d)
	}
}
