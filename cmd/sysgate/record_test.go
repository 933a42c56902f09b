package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sysgate/sysgate/filter/observe"
	"github.com/sysgate/sysgate/shim/record"
	"github.com/sysgate/sysgate/spec/profile"
)

func requireRecorder(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds sysgate and runs workloads")
	}
	if os.Geteuid() != 0 {
		t.Skip("recording needs root")
	}
	if err := observe.Available(); errors.Is(err, observe.ErrUnavailable) {
		t.Skipf("eBPF recording unavailable: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("busybox"); err != nil {
		t.Skip("busybox is needed")
	}
}

// busyboxScript exercises files, processes, pipes and signals, and prints
// what it did; it never creates a directory or a namespace.
const busyboxScript = `
set -e
echo "one two three" > data.txt
cp data.txt copy.txt
cat copy.txt | tr ' ' '\n' | sort | busybox wc -l
(echo subshell; busybox true) | cat
sleep 0.05 & wait $!
echo "background: $?"
trap 'echo got USR1' USR1
kill -USR1 $$
busybox sha256sum data.txt
rm copy.txt
ls
`

func runIn(dir, bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestRecordReplay records the script, then runs it enforced under its
// recording: the same output, and calls it never made denied.
func TestRecordReplay(t *testing.T) {
	requireRecorder(t)
	bin := builtSysgate(t)
	work, out := t.TempDir(), filepath.Join(t.TempDir(), "script.json")
	recOut, err := runIn(work, bin, "record", "-o", out, "--", "busybox", "sh", "-c", busyboxScript)
	if err != nil {
		t.Fatalf("record: %v\n%s", err, recOut)
	}
	p, err := profile.Load(out)
	if err != nil {
		t.Fatalf("the recording does not load as a profile: %v", err)
	}
	data, _ := os.ReadFile(out)
	meta, ok := record.ReadMetadata(data)
	if !ok || meta.Lost != 0 || meta.Records == 0 || meta.Source != "ebpf" || meta.Kernel == "" {
		t.Errorf("metadata %+v (found %v)", meta, ok)
	}
	if p.DefaultAction != "SCMP_ACT_ERRNO" || len(p.Syscalls) != 1 {
		t.Fatalf("not an allowlist: %+v", p)
	}
	names := p.Syscalls[0].Names
	// execve is made by sysgate exec after its filter is loaded: the
	// "runtime's init" of a host recording.
	for _, want := range []string{"execve", "pipe2", "kill", "rt_sigreturn", "wait4", "openat", "write"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s was made but is not in the recording %v", want, names)
		}
	}
	for _, never := range []string{"mkdir", "mkdirat", "unshare", "seccomp", "mount", "ptrace"} {
		if slices.Contains(names, never) {
			t.Errorf("%s was never made but is in the recording", never)
		}
	}
	t.Logf("recorded %d syscalls, %d calls", len(names), meta.Records)

	free, err := runIn(t.TempDir(), "busybox", "sh", "-c", busyboxScript)
	if err != nil {
		t.Fatalf("unconfined: %v\n%s", err, free)
	}
	replay, err := runIn(t.TempDir(), bin, "exec", "--profile", out, "--warnings=false", "--", "busybox", "sh", "-c", busyboxScript)
	if err != nil {
		t.Fatalf("replay under the recording: %v\n%s", err, replay)
	}
	if replay != free {
		t.Errorf("replay output differs\nunconfined:\n%s\nreplay:\n%s", free, replay)
	}
	for _, never := range [][]string{{"busybox", "mkdir", "d"}, {"busybox", "unshare", "-n", "true"}} {
		got, err := runIn(t.TempDir(), bin, append([]string{"exec", "--profile", out, "--warnings=false", "--"}, never...)...)
		if err == nil || !strings.Contains(got, "Operation not permitted") {
			t.Errorf("%v under the recording: %v\n%s", never, err, got)
		}
	}
}

// TestRecordSPO writes the SeccompProfile resource.
func TestRecordSPO(t *testing.T) {
	requireRecorder(t)
	out := filepath.Join(t.TempDir(), "true.yaml")
	got, err := runIn(t.TempDir(), builtSysgate(t), "record", "-o", out, "--format", "spo", "--", "busybox", "true")
	if err != nil {
		t.Fatalf("%v\n%s", err, got)
	}
	data, _ := os.ReadFile(out)
	for _, want := range []string{"kind: SeccompProfile", "apiVersion: security-profiles-operator.x-k8s.io/v1beta1", "name: \"true\"", "defaultAction: SCMP_ACT_ERRNO", "- execve"} {
		if !strings.Contains(string(data), want) && !strings.Contains(string(data), strings.ReplaceAll(want, `"`, "")) {
			t.Errorf("no %q in\n%s", want, data)
		}
	}
}

// TestRecordBadInput: each mistake is a clear error before anything runs,
// and no profile appears under the finished name.
func TestRecordBadInput(t *testing.T) {
	requireRecorder(t)
	bin := builtSysgate(t)
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	os.WriteFile(notDir, nil, 0o644)
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o755)
	if err := syscall.Mount("tmpfs", ro, "tmpfs", syscall.MS_RDONLY, "size=1m"); err != nil {
		t.Fatalf("a read-only directory: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(ro, syscall.MNT_DETACH) })
	marker := filepath.Join(dir, "ran")
	badProfile := writeFile(t, "bad.json", `{"defaultAction":"SCMP_ACT_NOPE"}`)
	for _, c := range []struct {
		name, out string
		extra     []string
		want      string
	}{
		{"parent is a file", filepath.Join(notDir, "p.json"), nil, "not a directory"},
		{"read-only directory", filepath.Join(ro, "p.json"), nil, "read-only file system"},
		{"invalid base profile", filepath.Join(dir, "p.json"), []string{"--profile", badProfile}, "SCMP_ACT_NOPE"},
	} {
		args := append(append([]string{"record", "-o", c.out}, c.extra...), "--", "busybox", "touch", marker)
		got, err := runIn(dir, bin, args...)
		if err == nil || !strings.Contains(strings.ToLower(got), strings.ToLower(c.want)) {
			t.Errorf("%s: %v, want an error with %q:\n%s", c.name, err, c.want, got)
		}
		if _, err := os.Stat(c.out); err == nil {
			t.Errorf("%s: %s was written", c.name, c.out)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran although the recording could not be written")
	}
}

// TestRecordSameNameAtOnce: the second recording of a name fails while the
// first runs, and the first finishes.
func TestRecordSameNameAtOnce(t *testing.T) {
	requireRecorder(t)
	bin := builtSysgate(t)
	out := filepath.Join(t.TempDir(), "p.json")
	first := exec.Command(bin, "record", "-o", out, "--", "busybox", "sleep", "1")
	first.Dir = t.TempDir()
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out+".lock")
	got, err := runIn(t.TempDir(), bin, "record", "-o", out, "--", "busybox", "true")
	if err == nil || !strings.Contains(got, "another recording of the same name is in progress") {
		t.Errorf("second recording: %v\n%s", err, got)
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("first recording: %v", err)
	}
	if p, err := profile.Load(out); err != nil || !slices.Contains(p.Syscalls[0].Names, "clock_nanosleep") {
		t.Errorf("the first recording's profile: %v", err)
	}
}

// TestRecordKilled: a recorder killed mid-recording leaves no profile under
// the finished name, and the name can be recorded again.
func TestRecordKilled(t *testing.T) {
	requireRecorder(t)
	bin := builtSysgate(t)
	out := filepath.Join(t.TempDir(), "p.json")
	rec := exec.Command(bin, "record", "-o", out, "--", "busybox", "sleep", "30")
	rec.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := rec.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out+".lock")
	time.Sleep(200 * time.Millisecond)
	syscall.Kill(-rec.Process.Pid, syscall.SIGKILL)
	rec.Wait()
	entries, _ := os.ReadDir(filepath.Dir(out))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			t.Errorf("%s exists after the recorder was killed", e.Name())
		}
	}
	if got, err := runIn(t.TempDir(), bin, "record", "-o", out, "--", "busybox", "true"); err != nil {
		t.Errorf("recording the name again: %v\n%s", err, got)
	}
}

// TestWorkloadKilled: a workload killed mid-recording (SIGKILL) still
// leaves what it did, and the recorder says it was killed.
func TestWorkloadKilled(t *testing.T) {
	requireRecorder(t)
	out := filepath.Join(t.TempDir(), "p.json")
	got, err := runIn(t.TempDir(), builtSysgate(t), "record", "-o", out, "--", "busybox", "sh", "-c", "echo x; kill -9 $$")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !strings.Contains(got, "signal: killed") {
		t.Errorf("want the kill reported: %v\n%s", err, got)
	}
	if p, err := profile.Load(out); err != nil || !slices.Contains(p.Syscalls[0].Names, "kill") {
		t.Errorf("the profile of what it did: %v", err)
	}
}

func waitFor(t *testing.T, path string) {
	t.Helper()
	for range 500 {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never appeared", path)
}
