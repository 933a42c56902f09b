package filter_test

// Kernel tests for the SECCOMP_FILTER_FLAG_* bits a profile may ask for.
// Each flag is checked by its effect, with a control run without the flag
// that shows the check can fail; a kernel without the flag is a skip that
// names the kernel.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sysgate/sysgate/conformance/probe"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/integration/probetest"
	"golang.org/x/sys/unix"
)

func mkdirProfile(flags, action string) string {
	return `{"defaultAction":"SCMP_ACT_ALLOW","flags":[` + flags + `],
		"syscalls":[{"names":["mkdir","mkdirat"],"action":"` + action + `"}]}`
}

func requireFlag(t *testing.T, name string, bit uint) {
	t.Helper()
	if !filter.KernelFlagSupported(bit) {
		var u unix.Utsname
		unix.Uname(&u)
		t.Skipf("kernel %s does not accept %s (seccomp(2) answers EINVAL)", unix.ByteSliceToString(u.Release[:]), name)
	}
}

// TestKernelTSync: with TSYNC the filter reaches a thread that existed
// before loading; without it, that thread stays unfiltered.
func TestKernelTSync(t *testing.T) {
	requireSeccomp(t)
	requireFlag(t, "SECCOMP_FILTER_FLAG_TSYNC", unix.SECCOMP_FILTER_FLAG_TSYNC)
	for _, tc := range []struct {
		name, flags string
		peer        string
		allFiltered bool
	}{
		{"TSYNC filters every thread", `"SECCOMP_FILTER_FLAG_TSYNC"`, "errno:EPERM", true},
		{"control: without TSYNC another thread is unfiltered", ``, "allowed", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, prog := compileJSON(t, mkdirProfile(tc.flags, "SCMP_ACT_ERRNO"))
			out := runHelper(t, helperThreads, prog, t.TempDir())
			var rep threadsReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("helper output %q: %v", out, err)
			}
			if rep.Self != "errno:EPERM" {
				t.Errorf("mkdir on the loading thread: %s, want errno:EPERM", rep.Self)
			}
			if rep.Peer != tc.peer {
				t.Errorf("mkdir on another thread: %s, want %s", rep.Peer, tc.peer)
			}
			if rep.Tasks < 2 {
				t.Fatalf("the helper has %d threads; the test needs at least 2", rep.Tasks)
			}
			if all := rep.FilteredTasks == rep.Tasks; all != tc.allFiltered {
				t.Errorf("%d of %d threads show Seccomp: 2; want all filtered = %v", rep.FilteredTasks, rep.Tasks, tc.allFiltered)
			}
			t.Logf("threads: %+v", rep)
		})
	}
}

// TestKernelFlagLog: SECCOMP_FILTER_FLAG_LOG changes no verdict, but makes
// the kernel audit-log ERRNO returns, which it otherwise does not. The log is
// checked through /dev/kmsg when seccomp's audit records reach it (a
// SCMP_ACT_LOG record is the proof that they do); elsewhere only the verdict
// is checked, and the test says why.
func TestKernelFlagLog(t *testing.T) {
	requireSeccomp(t)
	requireFlag(t, "SECCOMP_FILTER_FLAG_LOG", unix.SECCOMP_FILTER_FLAG_LOG)
	probePath := probetest.BuildForTest(t)
	// EXDEV and ETXTBSY: errnos nothing else here returns, named alike by
	// the probe and by x/sys/unix.
	withLog := `{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_LOG"],"syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":18}]}`
	withoutLog := `{"defaultAction":"SCMP_ACT_ALLOW","flags":[],"syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":26}]}`
	t.Run("verdicts", func(t *testing.T) {
		runCases(t, withLog, []call{{name: "mkdir", args: []string{"path", "493"}, want: "errno:EXDEV"}, {name: "getppid", want: "allowed"}})
		runCases(t, withoutLog, []call{{name: "mkdir", args: []string{"path", "493"}, want: "errno:ETXTBSY"}})
	})

	kmsg, err := openKmsg()
	if err != nil {
		t.Logf("only the verdicts are checked: cannot read the kernel log: %v", err)
		return
	}
	defer kmsg.Close()
	if !strings.Contains(readFileString("/proc/sys/kernel/seccomp/actions_logged"), "errno") {
		t.Logf("only the verdicts are checked: /proc/sys/kernel/seccomp/actions_logged does not list errno")
		return
	}
	dir := t.TempDir()
	mkdirUnder := func(profile string) {
		_, prog := compileJSON(t, profile)
		if _, err := probe.Run(context.Background(), probePath, loaderFor(t, prog), probe.ABINative, 83, "s:"+dir+"/d", "493"); err != nil {
			t.Fatal(err)
		}
	}
	// The audit record's code is the action without its data: every ERRNO
	// return shows as 0x50000. Each batch ends with a SCMP_ACT_LOG call,
	// which is always logged, so that "no ERRNO record" is not just "not
	// printed yet".
	const codeErrno, codeLogAction = "code=0x50000", "code=0x7ffc0000"
	mkdirUnder(withLog)
	mkdirUnder(mkdirProfile(``, "SCMP_ACT_LOG"))
	flagged := kmsg.collect(t, codeLogAction)
	if !containsAll(flagged, "syscall=83", codeLogAction) {
		t.Logf("only the verdicts are checked: no audit record for SCMP_ACT_LOG reached /dev/kmsg (audit off, or rate-limited); kernel log since the test: %q", flagged)
		return
	}
	mkdirUnder(withoutLog)
	mkdirUnder(mkdirProfile(``, "SCMP_ACT_LOG"))
	control := kmsg.collect(t, codeLogAction)
	if !containsAll(flagged, "syscall=83", codeErrno) {
		t.Errorf("SECCOMP_FILTER_FLAG_LOG: no audit record for the ERRNO return; kernel log since the test: %q", flagged)
	}
	if !containsAll(control, "syscall=83", codeLogAction) {
		t.Logf("control batch: the SCMP_ACT_LOG record did not show up (rate-limited?), so the absence of an ERRNO record proves nothing: %q", control)
	} else if containsAll(control, "syscall=83", codeErrno) {
		t.Errorf("control: an ERRNO return was logged without SECCOMP_FILTER_FLAG_LOG: %q", control)
	} else {
		t.Log("audit log checked: the ERRNO return was logged with SECCOMP_FILTER_FLAG_LOG and not without")
	}
}

// TestKernelFlagSpecAllow: loading a filter turns on speculative store
// bypass mitigation for the process when the kernel runs in "seccomp" mode;
// SPEC_ALLOW keeps it off.
func TestKernelFlagSpecAllow(t *testing.T) {
	requireSeccomp(t)
	requireFlag(t, "SECCOMP_FILTER_FLAG_SPEC_ALLOW", unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW)
	mode := readFileString("/sys/devices/system/cpu/vulnerabilities/spec_store_bypass")
	_, with := compileJSON(t, mkdirProfile(`"SECCOMP_FILTER_FLAG_SPEC_ALLOW"`, "SCMP_ACT_ERRNO"))
	_, without := compileJSON(t, mkdirProfile(``, "SCMP_ACT_ERRNO"))
	got := runHelper(t, helperSpec, with)
	control := runHelper(t, helperSpec, without)
	t.Logf("spec_store_bypass: %q; Speculation_Store_Bypass with SPEC_ALLOW: %q, without: %q", mode, got, control)
	if strings.Contains(got, "force mitigated") {
		t.Errorf("with SPEC_ALLOW the process was force-mitigated: %q", got)
	}
	if strings.Contains(mode, "seccomp") {
		if !strings.Contains(control, "force mitigated") {
			t.Errorf("control: in seccomp mitigation mode a filter without SPEC_ALLOW should force mitigation, status is %q", control)
		}
	} else {
		t.Logf("this CPU/kernel does not mitigate through seccomp (%q): the flag is accepted but has no visible effect", mode)
	}
}

func readFileString(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

func containsAll(lines []string, parts ...string) bool {
	for _, l := range lines {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return true
		}
	}
	return false
}

// kmsgReader reads kernel log records written after it was opened.
type kmsgReader struct{ f *os.File }

func openKmsg() (*kmsgReader, error) {
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("/dev/kmsg: %w", err)
	}
	if _, err := unix.Seek(fd, 0, unix.SEEK_END); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("/dev/kmsg: seek: %w", err)
	}
	return &kmsgReader{os.NewFile(uintptr(fd), "/dev/kmsg")}, nil
}

func (k *kmsgReader) Close() error { return k.f.Close() }

// collect returns the records logged so far, waiting up to two seconds for
// one containing want: kauditd prints asynchronously.
func (k *kmsgReader) collect(t *testing.T, want string) []string {
	var lines []string
	deadline := time.Now().Add(2 * time.Second)
	buf := make([]byte, 8192)
	for {
		n, err := unix.Read(int(k.f.Fd()), buf)
		switch {
		case err == nil:
			// One record per read: "prio,seq,time,flags;message".
			rec := string(buf[:n])
			if _, msg, ok := strings.Cut(rec, ";"); ok {
				rec = msg
			}
			sc := bufio.NewScanner(strings.NewReader(rec))
			if sc.Scan() {
				lines = append(lines, sc.Text())
			}
			continue
		case errors.Is(err, syscall.EPIPE):
			continue // records overwritten before we read them
		case !errors.Is(err, syscall.EAGAIN):
			t.Logf("reading /dev/kmsg: %v", err)
			return lines
		}
		if containsAll(lines, want) || time.Now().After(deadline) {
			return lines
		}
		time.Sleep(50 * time.Millisecond)
	}
}
