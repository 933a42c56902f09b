package wrapper

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/shim/denials"
	"github.com/sysgate/sysgate/spec"
)

// `sysgate denials --follow` prints a denial while it happens, not only
// when asked again.
func TestDenialsFollow(t *testing.T) {
	requireRoot(t)
	withAudit(t, true)
	var rt *denialRuntime
	for _, r := range denialRuntimes(t) {
		if r.logsErrno {
			rt = &r
			break
		}
	}
	if rt == nil {
		t.Skip("no runtime here passes SECCOMP_FILTER_FLAG_LOG")
	}
	dn := newDenialNode(t, *rt, "")
	id := newID("follow")
	cmd := exec.Command(sysgateBinary(t), "denials", "--follow", "--output", "json", "--config", dn.policyPath, "--container", id)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	lines := make(chan denials.Denial, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var d denials.Denial
			if json.Unmarshal(sc.Bytes(), &d) == nil && d.Kind == "denial" {
				lines <- d
			}
		}
	}()
	res := dn.cmd(false, "run", "--bundle", dn.bundle(bundle.Options{
		Args:        []string{"sh", "-c", "mkdir /tmp/x; echo done"},
		Annotations: map[string]string{spec.AnnotationPodSeccomp: "localhost/profiles/deny-mkdir.json"},
	}), id)
	ended := time.Now()
	dn.cmd(true, "delete", "--force", id)
	if !strings.Contains(res.stdout, "done") {
		t.Fatalf("container: %s", res)
	}
	select {
	case d := <-lines:
		if d.Container != id || (d.Syscall != "mkdir" && d.Syscall != "mkdirat") {
			t.Errorf("followed line %+v", d)
		}
		t.Logf("followed %v after the container ended", time.Since(ended).Round(time.Millisecond))
	case <-time.After(2 * time.Second):
		t.Fatal("--follow printed nothing within 2 s of the denial")
	}
}
