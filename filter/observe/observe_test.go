package observe

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// buildTree compiles testdata/tree.c, the process whose filtered calls are
// known to the number.
func buildTree(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc is needed to build the witness program")
	}
	bin := filepath.Join(t.TempDir(), "tree")
	if out, err := exec.Command("gcc", "-O1", "-static", "-o", bin, "testdata/tree.c").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return bin
}

func buildTreeB(b *testing.B) string { return buildTree(b) }

func requireBPF(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("recording needs root")
	}
	if err := Available(); errors.Is(err, ErrUnavailable) {
		t.Skipf("eBPF recording unavailable here: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
}

// record runs bin with args under a recording rooted at it and returns what
// was counted.
func record(t *testing.T, bin string, args ...string) (*Observation, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r, err := Start(cmd.Process.Pid)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal(err)
	}
	defer r.Close()
	stdin.Write([]byte{1})
	stdin.Close()
	runErr := cmd.Wait()
	obs, err := r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.Tasks(); err != nil || n != 0 {
		t.Errorf("after the tree exited, %d tasks are still followed (%v)", n, err)
	}
	return obs, runErr
}

// TestExactCounts: every call after the filter, in the root and a child,
// counted once; nothing before it (uname, the unfiltered child's getuid,
// prctl, seccomp itself) counted.
func TestExactCounts(t *testing.T) {
	requireBPF(t)
	obs, err := record(t, buildTree(t))
	if err != nil {
		t.Fatalf("witness: %v", err)
	}
	want := map[int32]uint64{
		unix.SYS_FORK:       1,
		unix.SYS_GETPPID:    1,
		unix.SYS_WAIT4:      1,
		unix.SYS_GETPID:     1000,
		unix.SYS_EXIT_GROUP: 2,
	}
	assertCalls(t, obs.Calls[X86_64], want)
	if len(obs.Calls[X86]) != 0 || len(obs.Calls[X32]) != 0 {
		t.Errorf("calls counted on other ABIs: x86 %v, x32 %v", obs.Calls[X86], obs.Calls[X32])
	}
	if obs.Lost != 0 {
		t.Errorf("lost %d", obs.Lost)
	}
}

// TestI386Calls: int $0x80 is counted on the x86 ABI, by its i386 number.
func TestI386Calls(t *testing.T) {
	requireBPF(t)
	bin := buildTree(t)
	obs, err := record(t, bin, "i386")
	var exit *exec.ExitError
	if asExit(err, &exit) && exit.Sys().(syscall.WaitStatus).Signaled() {
		t.Skipf("this kernel runs no i386 syscalls (IA-32 emulation off): %v", err)
	}
	if err != nil {
		t.Fatalf("witness: %v", err)
	}
	assertCalls(t, obs.Calls[X86], map[int32]uint64{20: 1}) // i386 getpid
	if obs.Calls[X86_64][unix.SYS_GETPID] != 1000 {
		t.Errorf("x86_64 getpid counted %d times, want 1000", obs.Calls[X86_64][unix.SYS_GETPID])
	}
}

// TestOtherTreesNotCounted: the same program running beside the recorded
// one, under its own filter, adds nothing.
func TestOtherTreesNotCounted(t *testing.T) {
	requireBPF(t)
	bin := buildTree(t)
	// A process outside the tree running the same program meanwhile.
	other := exec.Command(bin)
	otherIn, _ := other.StdinPipe()
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	obs, err := record(t, bin)
	if err != nil {
		t.Fatal(err)
	}
	otherIn.Write([]byte{1})
	otherIn.Close()
	other.Wait()
	if obs.Calls[X86_64][unix.SYS_GETPID] != 1000 {
		t.Errorf("getpid counted %d times, want 1000", obs.Calls[X86_64][unix.SYS_GETPID])
	}
}

func assertCalls(t *testing.T, got, want map[int32]uint64) {
	t.Helper()
	for nr, n := range want {
		if got[nr] != n {
			t.Errorf("syscall %d counted %d times, want %d", nr, got[nr], n)
		}
	}
	for nr, n := range got {
		if _, ok := want[nr]; !ok {
			t.Errorf("syscall %d counted %d times, want none", nr, n)
		}
	}
}

func asExit(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}
