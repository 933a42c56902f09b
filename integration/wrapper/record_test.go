package wrapper

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sysgate/sysgate/conformance/bundle"
	ebpfobserve "github.com/sysgate/sysgate/filter/observe"
	"github.com/sysgate/sysgate/integration/helperproc"
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
	recordDir    string
	helperKilled bool
}

func recordPodAnnotations(namespace, pod, name string) map[string]string {
	return map[string]string{
		"io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.container-name": name,
		"io.kubernetes.cri.sandbox-name": pod, "io.kubernetes.cri.sandbox-namespace": namespace,
		"io.kubernetes.cri.sandbox-id": "sandbox-" + pod, "io.kubernetes.cri.image-name": "example/busybox:1",
	}
}

func newRecordNode(t *testing.T, rt denialRuntime) *recordNode {
	if err := ebpfobserve.Available(); errors.Is(err, ebpfobserve.ErrUnavailable) {
		t.Skipf("eBPF recording unavailable: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rn := &recordNode{recordDir: filepath.Join(dir, "rec")}
	dn := &denialNode{decisionLog: filepath.Join(dir, "decisions.jsonl"), denialLog: filepath.Join(dir, "denials.jsonl")}
	policy := fmt.Sprintf("decision_log = %q\ndenials = true\ndenial_log = %q\n%s\nrecord_namespaces = [\"team-a\"]\nrecord_dir = %q\nrecord_socket = %q\n",
		dn.decisionLog, dn.denialLog, rt.extraPolicy, rn.recordDir, filepath.Join(dir, "record.sock"))
	dn.node = newNode(t, runtime{rt.name, rt.path}, policy)
	h, err := helperproc.Start(sysgateBinary(t), dn.policyPath, filepath.Join(t.TempDir(), "helper.sock"))
	if err != nil {
		t.Fatal(err)
	}
	dn.helper = h
	t.Cleanup(func() {
		// A test may have killed or replaced it.
		if err := rn.helper.Stop(); err != nil && !rn.helperKilled {
			t.Errorf("helper: %v", err)
		}
	})
	rn.denialNode = dn
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
			t.Logf("%s: %d syscalls recorded (%d calls): %s", rt.name, len(names), meta.Records, strings.Join(names, " "))
			if strings.HasPrefix(rt.name, "runc") && !slices.Contains(names, "futex") {
				t.Errorf("a recording through runc lacks futex, which runc's init may call after the filter: %+v", meta)
			}
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

// startRecorded creates and starts a recorded container running args in
// team-a/pod/app, detached.
func (rn *recordNode) startRecorded(t *testing.T, pod string, args ...string) (string, string, result) {
	ann := recordPodAnnotations("team-a", pod, "app")
	ann[spec.AnnotationRecord] = "r"
	id := newID("rec")
	dir := rn.bundle(bundle.Options{Args: args, Annotations: ann})
	res := rn.cmd(false, "create", "--bundle", dir, id)
	if res.code == 0 {
		t.Cleanup(func() { rn.cmd(true, "delete", "--force", id) })
		res = rn.cmd(true, "start", id)
	}
	return id, dir, res
}

func (rn *recordNode) sysgate(t *testing.T, args ...string) (string, error) {
	out, err := exec.Command(sysgateBinary(t), args...).CombinedOutput()
	return string(out), err
}

// TestRecordBadInput on the node: record stop, a container killed
// mid-recording, two recordings of one name, a recording directory that
// cannot be written, a helper killed mid-recording.
func TestRecordBadInput(t *testing.T) {
	requireRoot(t)
	rt := recordRuntimes(t)[0]
	loop := []string{"sh", "-c", "echo up; while true; do sleep 0.1; done"}

	t.Run("record stop", func(t *testing.T) {
		rn := newRecordNode(t, rt)
		id, _, res := rn.startRecorded(t, "stop", loop...)
		if res.code != 0 {
			t.Fatalf("start: %s", res)
		}
		time.Sleep(300 * time.Millisecond)
		if out, err := rn.sysgate(t, "record", "stop", "--config", rn.policyPath, "--list"); err != nil || !strings.Contains(out, id) {
			t.Errorf("record stop --list: %v\n%s", err, out)
		}
		out, err := rn.sysgate(t, "record", "stop", "--config", rn.policyPath, id)
		path := filepath.Join(rn.recordDir, "recordings", "team-a", "stop", "app.json")
		if err != nil || !strings.Contains(out, path) {
			t.Fatalf("record stop: %v\n%s", err, out)
		}
		p, err := profile.Load(path)
		if err != nil || !slices.Contains(p.Syscalls[0].Names, "clock_nanosleep") && !slices.Contains(p.Syscalls[0].Names, "nanosleep") {
			t.Errorf("the stopped recording: %v %+v", err, p)
		}
		if out, err := rn.sysgate(t, "record", "stop", "--config", rn.policyPath, id); err == nil || !strings.Contains(out, "no recording") {
			t.Errorf("a second stop: %v\n%s", err, out)
		}
	})

	t.Run("container killed mid-recording", func(t *testing.T) {
		rn := newRecordNode(t, rt)
		id, _, res := rn.startRecorded(t, "killed", loop...)
		if res.code != 0 {
			t.Fatalf("start: %s", res)
		}
		time.Sleep(300 * time.Millisecond)
		if res := rn.cmd(true, "kill", id, "KILL"); res.code != 0 {
			t.Fatalf("kill: %s", res)
		}
		path := rn.waitRecording(t, "killed", "app")
		if _, err := profile.Load(path); err != nil {
			t.Errorf("the killed container's recording: %v", err)
		}
	})

	t.Run("two recordings of one name", func(t *testing.T) {
		rn := newRecordNode(t, rt)
		if _, _, res := rn.startRecorded(t, "twice", loop...); res.code != 0 {
			t.Fatalf("first: %s", res)
		}
		_, dir, res := rn.startRecorded(t, "twice", loop...)
		if res.code == 0 || !strings.Contains(res.stderr, "another recording of the same name is in progress") {
			t.Errorf("second: %s", res)
		}
		// The record-mode profile is spliced in only after the recording
		// started: the refused bundle has none.
		data, _ := os.ReadFile(filepath.Join(dir, "config.json"))
		if strings.Contains(string(data), `"SCMP_ACT_LOG"`) {
			t.Error("the refused container's config.json was rewritten")
		}
	})

	t.Run("recording directory not writable", func(t *testing.T) {
		rn := newRecordNode(t, rt)
		os.MkdirAll(rn.recordDir, 0o755)
		if err := syscall.Mount("tmpfs", rn.recordDir, "tmpfs", syscall.MS_RDONLY, "size=1m,mode=0755"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Unmount(rn.recordDir, syscall.MNT_DETACH) })
		_, dir, res := rn.startRecorded(t, "ro", "true")
		if res.code != 3 || !strings.Contains(res.stderr, "read-only file system") || !strings.Contains(res.stderr, "the container was not created") {
			t.Errorf("create: %s", res)
		}
		data, _ := os.ReadFile(filepath.Join(dir, "config.json"))
		if strings.Contains(string(data), `"SCMP_ACT_LOG"`) {
			t.Error("config.json was rewritten")
		}
	})

	t.Run("helper killed mid-recording", func(t *testing.T) {
		rn := newRecordNode(t, rt)
		if _, _, res := rn.startRecorded(t, "crash", loop...); res.code != 0 {
			t.Fatalf("start: %s", res)
		}
		time.Sleep(300 * time.Millisecond)
		rn.helper.Kill()
		rn.helperKilled = true
		dir := filepath.Join(rn.recordDir, "recordings", "team-a", "crash")
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".json") {
				t.Errorf("%s written by a helper killed mid-recording", e.Name())
			}
		}
		// The lock died with the helper: a new helper records the name.
		h, err := helperproc.Start(sysgateBinary(t), rn.policyPath, filepath.Join(t.TempDir(), "helper.sock"))
		if err != nil {
			t.Fatal(err)
		}
		rn.helper, rn.helperKilled = h, false
		if _, _, res := rn.startRecorded(t, "crash", "sh", "-c", "echo again"); res.code != 0 {
			t.Fatalf("recording again after the crash: %s", res)
		}
		rn.waitRecording(t, "crash", "app")
	})
}
