package k8s

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sysgate/sysgate/integration/nodekit"
)

// nodeView is how a test reaches one node's containerd and processes: the
// shared cluster's node runs on this host directly, the systemd node
// (systemd_node_test.go) behind its own mount and PID namespaces.
type nodeView struct {
	name   string
	crictl func(args ...string) ([]byte, error)
	// proc is where the node's /proc is seen from the test: "/proc" on the
	// host, /proc/<its PID 1>/root/proc for a node in its own PID namespace
	// (crictl reports PIDs as the node sees them).
	proc string
}

func (c *cluster) view() nodeView {
	return nodeView{name: nodeName, crictl: c.crictl, proc: "/proc"}
}

// runningContainer is one container as the node runs it.
type runningContainer struct {
	ID, Seccomp string
	PID         int
}

// inspect is the container's init PID as the node sees it and its
// Seccomp: line, read in the node's /proc (not through the container).
func (v nodeView) inspect(t testing.TB, id string) runningContainer {
	t.Helper()
	out, err := v.crictl("inspect", "-o", "go-template", "--template", "{{.info.pid}}", id)
	if err != nil {
		t.Fatalf("%s: crictl inspect %s: %v\n%s", v.name, id, err, out)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("%s: crictl inspect %s: pid %q", v.name, id, out)
	}
	data, err := os.ReadFile(filepath.Join(v.proc, strconv.Itoa(pid), "status"))
	if err != nil {
		t.Fatalf("%s: container %s: %v", v.name, id, err)
	}
	return runningContainer{ID: id, PID: pid, Seccomp: statusField(string(data), "Seccomp")}
}

// podState is what the kubelet reports of a one-container Pod.
type podState struct {
	ID                  string
	Ready               bool
	RestartCount        int
	Node                string
	WaitingOrTerminated string
}

func (c *cluster) podState(t testing.TB, ns, name string) podState {
	t.Helper()
	var p struct {
		Spec   struct{ NodeName string } `json:"spec"`
		Status struct {
			ContainerStatuses []struct {
				ContainerID  string          `json:"containerID"`
				Ready        bool            `json:"ready"`
				RestartCount int             `json:"restartCount"`
				State        json.RawMessage `json:"state"`
			} `json:"containerStatuses"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(c.mustKubectl(t, "get", "pod", "-n", ns, name, "-o", "json")), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Status.ContainerStatuses) != 1 {
		return podState{Node: p.Spec.NodeName}
	}
	s := p.Status.ContainerStatuses[0]
	return podState{ID: strings.TrimPrefix(s.ContainerID, "containerd://"), Ready: s.Ready, RestartCount: s.RestartCount,
		Node: p.Spec.NodeName, WaitingOrTerminated: string(s.State)}
}

// survivors are Pods running before a containerd restart, as they were.
type survivors struct {
	ns     string
	before map[string]runningContainer // by Pod name
}

// recordSurvivors notes each Pod's container ID, init PID and filter; every
// one must be Ready and filtered as wantSeccomp says (by Pod name).
func (c *cluster) recordSurvivors(t testing.TB, v nodeView, ns string, wantSeccomp map[string]string) survivors {
	t.Helper()
	s := survivors{ns: ns, before: map[string]runningContainer{}}
	for pod, want := range wantSeccomp {
		st := c.podState(t, ns, pod)
		if !st.Ready || st.ID == "" || st.Node != v.name {
			t.Fatalf("%s/%s before the restart: %+v, want Ready on %s", ns, pod, st, v.name)
		}
		rc := v.inspect(t, st.ID)
		if rc.Seccomp != want {
			t.Fatalf("%s/%s before the restart: Seccomp %s, want %s", ns, pod, rc.Seccomp, want)
		}
		s.before[pod] = rc
	}
	return s
}

// check waits until the kubelet, through the restarted containerd, sees
// every Pod Ready again, then requires the same container (ID, init PID,
// filter), no restart, and a working `kubectl exec` whose own process is
// filtered alike.
func (s survivors) check(t testing.TB, c *cluster, v nodeView) {
	t.Helper()
	for _, pod := range slices.Sorted(maps.Keys(s.before)) {
		before := s.before[pod]
		var st podState
		err := waitFor(3*time.Minute, func() (bool, string) {
			st = c.podState(t, s.ns, pod)
			return st.Ready, fmt.Sprintf("%+v", st)
		})
		if err != nil {
			t.Errorf("%s/%s after the restart: %v", s.ns, pod, err)
			continue
		}
		if st.ID != before.ID || st.RestartCount != 0 {
			t.Errorf("%s/%s after the restart: container %s restartCount %d, want %s and 0", s.ns, pod, st.ID, st.RestartCount, before.ID)
			continue
		}
		after := v.inspect(t, st.ID)
		if after != before {
			t.Errorf("%s/%s after the restart: %+v, want %+v", s.ns, pod, after, before)
		}
		var out string
		var ok bool
		// exec goes through the kubelet to the restarted containerd's
		// streaming server; the first may race the kubelet's reconnect.
		waitFor(time.Minute, func() (bool, string) {
			out, ok = c.exec(s.ns, pod, "app", "cat", "/proc/self/status")
			return ok, out
		})
		if !ok || statusField(out, "Seccomp") != before.Seccomp {
			t.Errorf("%s/%s: kubectl exec after the restart: ok=%v Seccomp %q, want %s\n%s", s.ns, pod, ok, statusField(out, "Seccomp"), before.Seccomp, out)
		}
		t.Logf("%s/%s survived: container %.12s, init PID %d, Seccomp %s, restartCount 0, exec works", s.ns, pod, st.ID, after.PID, after.Seccomp)
	}
}

// restartContainerd restarts the shared node's containerd the way systemd
// does under containerd's own unit (KillMode=process): SIGTERM to the
// daemon alone, then the same binary on the same config. The shims run as
// daemons of their own and are not signalled; it checks that they kept
// running.
func (c *cluster) restartContainerd(t testing.TB) {
	t.Helper()
	shimsBefore := nodekit.ShimPids(c.sock)
	slices.Sort(shimsBefore)
	stopProc(c.containerd, 30*time.Second)
	if c.containerd.cmd.ProcessState == nil || !c.containerd.cmd.ProcessState.Success() {
		t.Errorf("containerd did not exit cleanly on SIGTERM: %v", c.containerd.cmd.ProcessState)
	}
	os.Rename(c.containerd.logPath, c.containerd.logPath+".before-restart")
	start := time.Now()
	if err := c.runContainerd(); err != nil {
		t.Fatalf("starting containerd again: %v", err)
	}
	t.Logf("containerd restarted: serving again in %v", time.Since(start).Round(time.Millisecond))
	shimsAfter := nodekit.ShimPids(c.sock)
	slices.Sort(shimsAfter)
	if !slices.Equal(shimsBefore, shimsAfter) {
		t.Errorf("shims before the restart %v, after %v: a restart must leave them running", shimsBefore, shimsAfter)
	}
}

// TestPodsSurviveContainerdRestart: Pods on each handler keep running
// across a containerd restart (what the installer does when it adds the
// handlers): same containers, same processes, same filters, no restart
// counted, `kubectl exec` works through the new containerd, and new Pods
// start on every handler afterwards.
func TestPodsSurviveContainerdRestart(t *testing.T) {
	c := requireCluster(t)
	ns := c.namespace(t, "restart")
	want := map[string]string{}
	var names []string
	for _, h := range handlers {
		p := testPod{Name: "before-" + h, RuntimeClass: h, PodSeccomp: "{type: RuntimeDefault}"}
		c.applyIn(t, ns, p.yaml())
		want[p.Name] = "2"
		names = append(names, p.Name)
	}
	c.waitReady(t, ns, names...)
	s := c.recordSurvivors(t, c.view(), ns, want)

	c.restartContainerd(t)
	s.check(t, c, c.view())

	var after []string
	for _, h := range handlers {
		p := testPod{Name: "after-" + h, RuntimeClass: h, PodSeccomp: "{type: RuntimeDefault}"}
		c.applyIn(t, ns, p.yaml())
		after = append(after, p.Name)
	}
	c.waitReady(t, ns, after...)
	for _, p := range after {
		st := c.podState(t, ns, p)
		if rc := c.view().inspect(t, st.ID); rc.Seccomp != "2" {
			t.Errorf("%s/%s started after the restart: Seccomp %s, want 2", ns, p, rc.Seccomp)
		}
	}
}
