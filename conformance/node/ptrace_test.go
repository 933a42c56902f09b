package node

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sysgate/sysgate/filter/bpf"
)

// helperEnv makes the test binary a process that loads that many filters
// and waits for its stdin to close.
const helperEnv = "SYSGATE_NODE_TEST_FILTERS"

func TestMain(m *testing.M) {
	if n, err := strconv.Atoi(os.Getenv(helperEnv)); err == nil {
		os.Exit(filterHelper(n))
	}
	os.Exit(m.Run())
}

// testFilter i answers ERRNO(i+1) for syscall 1000+i and allows the rest,
// so that each filter read back can be told apart.
func testFilter(i int) []bpf.Instruction {
	return []bpf.Instruction{
		bpf.LoadAbsolute(bpf.OffsetNr),
		{Code: bpf.OpJumpEqual, Jt: 0, Jf: 1, K: uint32(1000 + i)},
		bpf.Return(bpf.RetErrno | uint32(i+1)),
		bpf.Return(bpf.RetAllow),
	}
}

func filterHelper(n int) int {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for i := range n {
		insns := testFilter(i)
		prog := unix.SockFprog{Len: uint16(len(insns)), Filter: (*unix.SockFilter)(unsafe.Pointer(&insns[0]))}
		// TSYNC: every thread of the Go runtime gets it, the one read too.
		if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog))); errno != 0 {
			fmt.Fprintln(os.Stderr, "seccomp:", errno)
			return 1
		}
		runtime.KeepAlive(insns)
	}
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
	return 0
}

// startHelper runs a process holding n filters until the test ends.
func startHelper(t *testing.T, n int) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", helperEnv, n))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("helper: %q, %v", line, err)
	}
	return cmd.Process.Pid
}

func requirePtraceRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("PTRACE_SECCOMP_GET_FILTER needs root (CAP_SYS_ADMIN)")
	}
}

func TestReadFilters(t *testing.T) {
	requirePtraceRoot(t)
	for _, n := range []int{1, 3} {
		pid := startHelper(t, n)
		filters, err := ReadFilters(pid)
		if err != nil {
			t.Fatal(err)
		}
		if len(filters) != n {
			t.Fatalf("%d filters read, %d loaded", len(filters), n)
		}
		for i, f := range filters {
			// Newest first: index 0 is the last one loaded.
			if want := testFilter(n - 1 - i); fmt.Sprint(f) != fmt.Sprint(want) {
				t.Errorf("filter %d: %v, want %v", i, f, want)
			}
		}
		// The process carries on as before: it is not left stopped.
		task, err := ReadTask(0, pid)
		if err != nil || task.TracerPID != 0 || task.Filters != n {
			t.Errorf("after reading: %+v, %v", task, err)
		}
		if state := statusField(pid, "State"); strings.HasPrefix(state, "t") || strings.HasPrefix(state, "T") {
			t.Errorf("the process is left stopped: %s", state)
		}
	}
}

func TestReadFiltersOfATracedProcess(t *testing.T) {
	requirePtraceRoot(t)
	pid := startHelper(t, 1)
	seized, done := make(chan error), make(chan struct{})
	go func() {
		// This thread stays the tracer until it ends with the goroutine
		// (still locked), when the kernel detaches.
		runtime.LockOSThread()
		seized <- unix.PtraceSeize(pid)
		<-done
	}()
	if err := <-seized; err != nil {
		t.Fatal(err)
	}
	_, err := ReadFilters(pid)
	close(done)
	var fe *FilterError
	if !errors.As(err, &fe) || !errors.Is(err, unix.EPERM) || !strings.Contains(err.Error(), "already traced by pid") {
		t.Errorf("reading a traced process: %v; want EPERM naming the tracer", err)
	}
}

func TestReadFiltersOfAnUnconfinedProcess(t *testing.T) {
	requirePtraceRoot(t)
	pid := startHelper(t, 0)
	_, err := ReadFilters(pid)
	if !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), "not in seccomp filter mode") {
		t.Errorf("reading an unconfined process: %v; want EINVAL saying so", err)
	}
}

func TestReadFiltersOfAGoneProcess(t *testing.T) {
	requirePtraceRoot(t)
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFilters(cmd.Process.Pid)
	if !errors.Is(err, ErrGone) {
		t.Errorf("reading a process that exited: %v; want ErrGone", err)
	}
}
