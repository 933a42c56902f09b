package wrapper

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sysgate/sysgate/conformance/bundle"
	ebpfobserve "github.com/sysgate/sysgate/filter/observe"
	"github.com/sysgate/sysgate/shim/denials"
	"github.com/sysgate/sysgate/shim/record"
	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/profile"
)

// recordScript exercises files, processes, pipes and signals, printing
// only what does not change from run to run; it never creates a directory
// or a namespace.
const recordScript = `set -e
cd /tmp
echo "one two three" > data.txt
cp data.txt copy.txt
cat copy.txt | tr ' ' '\n' | sort | wc -l
(echo subshell; true) | cat
sleep 0.05 & wait $!
echo "background: $?"
trap 'echo got USR1' USR1
kill -USR1 $$
sha256sum data.txt
rm copy.txt
ls /tmp
echo done`

// recordNode is a node whose helper records and collects denials.
type recordNode struct {
	*denialNode
	recordDir string
}

func recordPodAnnotations(namespace, pod, name string) map[string]string {
	return map[string]string{
		"io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.container-name": name,
		"io.kubernetes.cri.sandbox-name": pod, "io.kubernetes.cri.sandbox-namespace": namespace,
		"io.kubernetes.cri.sandbox-id": "sandbox-" + pod, "io.kubernetes.cri.image-name": "example/busybox:1",
	}
}

func newRecordNode(t *testing.T, rt denialRuntime) *recordNode {
	if err := ebpfobserve.Available(); err != nil {
		t.Skipf("eBPF recording unavailable: %v", err)
	}
	dir := t.TempDir()
	rn := &recordNode{recordDir: filepath.Join(dir, "rec")}
	extra := fmt.Sprintf("record_namespaces = [\"team-a\"]\nrecord_dir = %q\nrecord_socket = %q\n", rn.recordDir, filepath.Join(dir, "record.sock"))
	rn.denialNode = newDenialNode(t, rt, extra)
	return rn
}

// waitRecording waits for the helper to write the container's profile
// once its processes are gone.
func (rn *recordNode) waitRecording(t *testing.T, pod, name string) string {
	t.Helper()
	path := filepath.Join(rn.recordDir, "recordings", "team-a", pod, name+".json")
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	t.Fatalf("no recording at %s; helper log:\n%s", path, rn.helper.Log())
	return ""
}

// recordRuntimes: runc 1.1 passes no SECCOMP_FILTER_FLAG_LOG, so a denial
// under it leaves no record and "0 denials" would prove nothing; runc 1.2
// (hack/build-runc.sh) stands for runc where it is built.
func recordRuntimes(t *testing.T) []denialRuntime {
	var out []denialRuntime
	for _, rt := range denialRuntimes(t) {
		if rt.name != "crun through the JSON" {
			out = append(out, rt)
		}
	}
	return out
}

// TestRecordThenReplay: a busybox script recorded in a listed namespace
// through sysgate-runc, then run enforced under its recording as a
// Localhost profile: the same output, no denial, and mkdir and unshare,
// which it never made, denied.
func TestRecordThenReplay(t *testing.T) {
	requireRoot(t)
	withAudit(t, true)
	for _, rt := range recordRuntimes(t) {
		t.Run(rt.name, func(t *testing.T) {
			rn := newRecordNode(t, rt)
			ann := recordPodAnnotations("team-a", "web-0", "app")
			ann[spec.AnnotationRecord] = "script"
			id := newID("rec")
			res := rn.cmd(false, "run", "--bundle", rn.bundle(bundle.Options{Args: []string{"sh", "-c", recordScript}, Annotations: ann}), id)
			rn.cmd(true, "delete", "--force", id)
			if res.code != 0 || !strings.Contains(res.stdout, "done") {
				t.Fatalf("recorded container: %s", res)
			}
			path := rn.waitRecording(t, "web-0", "app")
			p, err := profile.Load(path)
			if err != nil {
				t.Fatalf("the recording is not a profile: %v", err)
			}
			data, _ := os.ReadFile(path)
			meta, _ := record.ReadMetadata(data)
			if meta.Lost != 0 || meta.Container != "team-a/web-0/app" || meta.Image != "example/busybox:1" || !strings.Contains(meta.Runtime, "version") {
				t.Errorf("metadata: %+v", meta)
			}
			names := p.Syscalls[0].Names
			t.Logf("%s: %d syscalls recorded (%d calls)", rt.name, len(names), meta.Records)
			for _, want := range []string{"execve", "pipe2", "kill", "wait4"} {
				if !slices.Contains(names, want) {
					t.Errorf("%s missing from %v", want, names)
				}
			}
			// The runtime's setup before the filter is not the workload's.
			for _, never := range []string{"mkdir", "mkdirat", "unshare", "mount", "pivot_root", "seccomp"} {
				if slices.Contains(names, never) {
					t.Errorf("%s is in the recording", never)
				}
			}

			rn.addProfileBytes("recordings/app.json", data)
			replay := recordPodAnnotations("team-b", "web-1", "app")
			replay[spec.AnnotationContainerSeccompPrefix+"app"] = "localhost/recordings/app.json"
			id2 := newID("replay")
			res2 := rn.cmd(false, "run", "--bundle", rn.bundle(bundle.Options{Args: []string{"sh", "-c", recordScript}, Annotations: replay}), id2)
			rn.cmd(true, "delete", "--force", id2)
			if res2.code != 0 || res2.stdout != res.stdout {
				t.Fatalf("replay differs from the recorded run\nrecorded: %s\nreplay: %s", res, res2)
			}
			id3 := newID("never")
			res3 := rn.cmd(false, "run", "--bundle", rn.bundle(bundle.Options{Args: []string{"sh", "-c", "mkdir /tmp/x; unshare -n true; echo end"}, Annotations: replay}), id3)
			rn.cmd(true, "delete", "--force", id3)
			if strings.Count(res3.stdout+res3.stderr, "Operation not permitted") != 2 {
				t.Errorf("mkdir and unshare under the recording: %s", res3)
			}
			if !rt.logsErrno {
				return
			}
			// The denials of the third run prove the collector sees this
			// runtime's ERRNO records; then the replay's count is
			// meaningful.
			if got, _ := rn.waitDenials(t, 3*time.Second, func(ds []denials.Denial) bool { return findDenial(ds, id3, "mkdir", "mkdirat") != nil }, "--container", id3); findDenial(got, id3, "mkdir", "mkdirat") == nil {
				t.Fatalf("the collector saw no mkdir denial for %s: %+v", id3, got)
			}
			if got, _ := rn.waitDenials(t, 0, func([]denials.Denial) bool { return true }, "--container", id2); len(got) != 0 {
				t.Errorf("the replay was denied: %+v", got)
			}
		})
	}
}

// TestRecordRefusedOutsideListedNamespaces: the annotation in a namespace
// the policy does not list is refused at create, config.json untouched.
func TestRecordRefusedOutsideListedNamespaces(t *testing.T) {
	requireRoot(t)
	for _, rt := range recordRuntimes(t)[:1] {
		rn := newRecordNode(t, rt)
		ann := recordPodAnnotations("team-b", "web-0", "app")
		ann[spec.AnnotationRecord] = "script"
		dir := rn.bundle(bundle.Options{Args: []string{"true"}, Annotations: ann})
		before, _ := os.ReadFile(filepath.Join(dir, "config.json"))
		res := rn.cmd(false, "create", "--bundle", dir, newID("refused"))
		if res.code != 1 || !strings.Contains(res.stderr, "record_namespaces") {
			t.Errorf("want a refusal naming record_namespaces: %s", res)
		}
		fileUnchanged(t, filepath.Join(dir, "config.json"), before)
	}
}
