package wrapper

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sysgate/sysgate/conformance/bundle"
	specbundle "github.com/sysgate/sysgate/spec/bundle"
)

// TestLifecycle drives a container the way containerd's shim does: create,
// start, state, exec, ps, kill, delete, all through the wrapper, and checks
// that an exec'd process runs under the container's filter.
func TestLifecycle(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, rt runtime) {
		n := newNode(t, rt, "")
		dir := n.bundle(bundle.Options{Args: []string{"sleep", "60"}})
		id := newID("life")
		t.Cleanup(func() { n.cmd(true, "delete", "--force", id) })

		if r := n.cmd(false, "create", "--bundle", dir, id); r.code != 0 {
			t.Fatalf("create: %s", r)
		}
		if st := state(t, n, id); st.Status != "created" {
			t.Fatalf("state after create: %+v", st)
		}
		if r := n.cmd(false, "start", id); r.code != 0 {
			t.Fatalf("start: %s", r)
		}
		st := state(t, n, id)
		if st.Status != "running" || st.Pid == 0 {
			t.Fatalf("state after start: %+v", st)
		}
		if d, ok := st.Annotations[specbundle.AnnotationDecision]; !ok || !strings.Contains(d, `"type":"RuntimeDefault"`) {
			t.Errorf("state does not show the decision annotation: %v", st.Annotations)
		}
		status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(st.Pid), "status"))
		if err != nil || !strings.Contains(string(status), "Seccomp:\t2") {
			t.Errorf("/proc/%d/status of the container process: %v\n%s", st.Pid, err, status)
		}

		r := n.cmd(false, "exec", id, "sh", "-c", "grep '^Seccomp:' /proc/self/status; unshare -m true 2>&1 || echo unshare-blocked")
		if r.code != 0 || !strings.Contains(r.stdout, "Seccomp:\t2") || !strings.Contains(r.stdout, "unshare-blocked") {
			t.Errorf("exec: the exec'd process must run under the same filter: %s", r)
		}
		// Exit codes of exec'd processes are the runtime's.
		if r := n.cmd(false, "exec", id, "sh", "-c", "exit 7"); r.code != 7 {
			t.Errorf("exec exit code: %s", r)
		}
		if rt.name == "runc" {
			if r := n.cmd(false, "ps", "--format", "json", id); r.code != 0 || !strings.Contains(r.stdout, strconv.Itoa(st.Pid)) {
				t.Errorf("ps: %s", r)
			}
		}
		if r := n.cmd(false, "kill", id, "KILL"); r.code != 0 {
			t.Errorf("kill: %s", r)
		}
		waitStopped(t, n, id)
		if r := n.cmd(false, "delete", id); r.code != 0 {
			t.Errorf("delete: %s", r)
		}
		// Errors are passed through too: the same exit status as the bare
		// runtime for a container that no longer exists.
		bare, wrapped := n.cmd(true, "state", id), n.cmd(false, "state", id)
		if bare.code == 0 || bare.code != wrapped.code {
			t.Errorf("state of a deleted container: bare exit %d, wrapped exit %d", bare.code, wrapped.code)
		}
		if rt.name == "runc" {
			bare, wrapped := n.cmd(true, "features"), n.cmd(false, "features")
			if bare.code != 0 || bare.stdout != wrapped.stdout {
				t.Errorf("features differ:\nbare %s\nwrapped %s", bare, wrapped)
			}
		}
	})
}

// TestSecondCreateChangesNothing: a retried create on the same bundle leaves
// config.json byte-identical to the first rewrite.
func TestSecondCreateChangesNothing(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, rt runtime) {
		n := newNode(t, rt, "")
		dir := n.bundle(bundle.Options{Args: []string{"true"}, Annotations: podAnnotations("default", "p", "app", nil)})
		id := newID("twice")
		if r := n.cmd(false, "create", "--bundle", dir, id); r.code != 0 {
			t.Fatalf("first create: %s", r)
		}
		first, _ := os.ReadFile(filepath.Join(dir, "config.json"))
		n.cmd(true, "delete", "--force", id)
		if r := n.cmd(false, "create", "--bundle", dir, id); r.code != 0 {
			t.Fatalf("second create: %s", r)
		}
		n.cmd(true, "delete", "--force", id)
		second, _ := os.ReadFile(filepath.Join(dir, "config.json"))
		if string(first) != string(second) {
			t.Errorf("the second create changed config.json")
		}
		var rec map[string]any
		var s struct{ Annotations map[string]string }
		json.Unmarshal(second, &s)
		if err := json.Unmarshal([]byte(s.Annotations[specbundle.AnnotationDecision]), &rec); err != nil || rec["source"] != "node default" {
			t.Errorf("the recorded decision must still say where the profile came from: %v %v", rec, err)
		}
	})
}

type containerState struct {
	Status      string            `json:"status"`
	Pid         int               `json:"pid"`
	Annotations map[string]string `json:"annotations"`
}

func state(t *testing.T, n *node, id string) containerState {
	t.Helper()
	r := n.cmd(false, "state", id)
	var st containerState
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil {
		t.Fatalf("state: %s", r)
	}
	return st
}

func waitStopped(t *testing.T, n *node, id string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if state(t, n, id).Status == "stopped" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not stop after kill", id)
}
