package node

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sysgate/sysgate/filter/bpf"
)

// StopTimeout bounds how long ReadFilters waits for a thread to stop: a
// thread of a paused (frozen) container does not stop until it is thawed.
const StopTimeout = 2 * time.Second

// FilterError says why the filters of a thread could not be read, and
// what to do about it.
type FilterError struct {
	TID  int
	Op   string // the ptrace request or step that failed
	Err  error
	Hint string
}

func (e *FilterError) Error() string {
	msg := fmt.Sprintf("reading the seccomp filters of thread %d: %s: %v", e.TID, e.Op, e.Err)
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

func (e *FilterError) Unwrap() error { return e.Err }

// ErrGone: the thread exited while it was being read.
var ErrGone = errors.New("the thread exited")

// ReadFilters returns the classic BPF programs of every seccomp filter the
// kernel holds for thread tid, as ptrace(PTRACE_SECCOMP_GET_FILTER) gives
// them, newest first: the order the kernel runs them in. It needs
// CAP_SYS_ADMIN and CAP_SYS_PTRACE, and the caller must not run under
// seccomp itself: the kernel refuses a confined caller.
//
// The thread is attached with PTRACE_SEIZE, stopped with PTRACE_INTERRUPT
// (no SIGSTOP is sent, so nothing in the container sees a job-control
// stop), read, and detached; a signal that arrived meanwhile is delivered
// on detach. It stays stopped for the few system calls this takes.
func ReadFilters(tid int) ([][]bpf.Instruction, error) {
	type result struct {
		filters [][]bpf.Instruction
		err     error
	}
	done := make(chan result, 1)
	go func() {
		// Every ptrace request must come from the thread that attached.
		// A thread that could not detach is left locked, so that it ends
		// with this goroutine and the kernel detaches the tracee then.
		runtime.LockOSThread()
		filters, detached, err := readFiltersLocked(tid)
		if detached {
			runtime.UnlockOSThread()
		}
		done <- result{filters, err}
	}()
	r := <-done
	return r.filters, r.err
}

func readFiltersLocked(tid int) (filters [][]bpf.Instruction, detached bool, err error) {
	if err := unix.PtraceSeize(tid); err != nil {
		return nil, true, seizeError(tid, err)
	}
	sig, err := waitStopped(tid)
	if err != nil {
		// Not stopped: PTRACE_DETACH would fail with ESRCH.
		return nil, errors.Is(err, ErrGone), err
	}
	filters, err = getFilters(tid)
	if detachErr := ptrace(unix.PTRACE_DETACH, tid, 0, uintptr(sig)); detachErr != nil && !errors.Is(detachErr, unix.ESRCH) {
		return filters, false, err
	}
	return filters, true, err
}

// waitStopped interrupts the thread and waits until it is in a
// ptrace-stop; it returns the signal to deliver on detach (none for the
// stop the interrupt itself caused).
func waitStopped(tid int) (unix.Signal, error) {
	if err := unix.PtraceInterrupt(tid); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return 0, &FilterError{TID: tid, Op: "PTRACE_INTERRUPT", Err: ErrGone}
		}
		return 0, &FilterError{TID: tid, Op: "PTRACE_INTERRUPT", Err: err}
	}
	deadline := time.Now().Add(StopTimeout)
	pause := 20 * time.Microsecond
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(tid, &ws, unix.WALL|unix.WNOHANG, nil)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ECHILD):
			return 0, &FilterError{TID: tid, Op: "wait4", Err: ErrGone}
		case err != nil:
			return 0, &FilterError{TID: tid, Op: "wait4", Err: err}
		case pid == tid && (ws.Exited() || ws.Signaled()):
			return 0, &FilterError{TID: tid, Op: "wait4", Err: ErrGone}
		case pid == tid && ws.Stopped():
			// status>>16 is the ptrace event: PTRACE_EVENT_STOP for the
			// interrupt and for a group-stop (whose signal has already
			// acted); 0 for a signal on its way in, which must go on.
			if uint32(ws)>>16 == unix.PTRACE_EVENT_STOP {
				return 0, nil
			}
			return ws.StopSignal(), nil
		}
		if time.Now().After(deadline) {
			return 0, &FilterError{TID: tid, Op: "waiting for the thread to stop", Err: unix.ETIMEDOUT,
				Hint: fmt.Sprintf("it did not stop within %v: is its container paused (frozen)? resume it and retry", StopTimeout)}
		}
		time.Sleep(pause)
		if pause < 10*time.Millisecond {
			pause *= 2
		}
	}
}

// getFilters asks for filter 0, 1, ... until the kernel says there is no
// such filter, and returns them newest first. The kernel numbers them from
// the oldest (get_nth_filter in kernel/seccomp.c counts back from the
// newest by the total), but runs them from the newest.
func getFilters(tid int) ([][]bpf.Instruction, error) {
	filters, err := getFiltersOldestFirst(tid)
	slices.Reverse(filters)
	return filters, err
}

func getFiltersOldestFirst(tid int) ([][]bpf.Instruction, error) {
	var filters [][]bpf.Instruction
	for i := 0; ; i++ {
		n, err := getFilter(tid, i, nil)
		if errors.Is(err, unix.ENOENT) {
			return filters, nil
		}
		if err != nil {
			return filters, getFilterError(tid, i, err)
		}
		if n <= 0 || n > bpf.MaxInstructions {
			return filters, &FilterError{TID: tid, Op: fmt.Sprintf("PTRACE_SECCOMP_GET_FILTER %d", i), Err: fmt.Errorf("the kernel reports %d instructions", n)}
		}
		insns := make([]bpf.Instruction, n)
		got, err := getFilter(tid, i, insns)
		if err != nil {
			return filters, getFilterError(tid, i, err)
		}
		if got != n {
			return filters, &FilterError{TID: tid, Op: fmt.Sprintf("PTRACE_SECCOMP_GET_FILTER %d", i), Err: fmt.Errorf("the filter changed size from %d to %d instructions while being read", n, got)}
		}
		filters = append(filters, insns)
	}
}

// getFilter is PTRACE_SECCOMP_GET_FILTER: with a nil buffer it returns the
// filter's length; otherwise it copies the filter into buf, which has the
// layout of struct sock_filter.
func getFilter(tid, index int, buf []bpf.Instruction) (int, error) {
	var data unsafe.Pointer
	if buf != nil {
		data = unsafe.Pointer(&buf[0])
	}
	r, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SECCOMP_GET_FILTER, uintptr(tid), uintptr(index), uintptr(data), 0, 0)
	runtime.KeepAlive(buf)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

func ptrace(request, tid int, addr, data uintptr) error {
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, uintptr(request), uintptr(tid), addr, data, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

func seizeError(tid int, err error) error {
	e := &FilterError{TID: tid, Op: "PTRACE_SEIZE", Err: err}
	switch {
	case errors.Is(err, unix.ESRCH):
		e.Err = ErrGone
	case errors.Is(err, unix.EPERM):
		e.Hint = ptraceDenied(tid)
	}
	return e
}

// ptraceDenied explains an EPERM from PTRACE_SEIZE: the likely causes, most
// specific first.
func ptraceDenied(tid int) string {
	if tracer := statusField(tid, "TracerPid"); tracer != "" && tracer != "0" {
		return fmt.Sprintf("it is already traced by pid %s (a debugger or strace), and a thread can have only one tracer: detach that tracer and retry", tracer)
	}
	if scope, err := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope"); err == nil {
		switch strings.TrimSpace(string(scope)) {
		case "3":
			return "kernel.yama.ptrace_scope is 3, which forbids ptrace to everyone until the next boot; boot with a lower value to verify filters"
		case "2":
			if os.Geteuid() != 0 {
				return "kernel.yama.ptrace_scope is 2: only a process with CAP_SYS_PTRACE may attach; run sysgate as root"
			}
		}
	}
	if os.Geteuid() != 0 {
		return "reading another process's filters needs root (CAP_SYS_PTRACE and CAP_SYS_ADMIN)"
	}
	return "root was refused: sysgate may lack CAP_SYS_PTRACE in this user namespace, or an LSM (AppArmor, SELinux) denies ptrace; run it on the host, outside any container"
}

func getFilterError(tid, index int, err error) error {
	e := &FilterError{TID: tid, Op: fmt.Sprintf("PTRACE_SECCOMP_GET_FILTER %d", index), Err: err}
	switch {
	case errors.Is(err, unix.EACCES):
		e.Hint = "the kernel gives filters only to a caller with CAP_SYS_ADMIN that is not under seccomp itself; run sysgate verify as root on the host, unconfined"
	case errors.Is(err, unix.EIO):
		e.Hint = "this kernel has no PTRACE_SECCOMP_GET_FILTER (built without CONFIG_CHECKPOINT_RESTORE); the filters cannot be read, only counted (/proc/PID/status)"
	case errors.Is(err, unix.EMEDIUMTYPE):
		e.Hint = "the kernel kept no classic BPF copy of this filter (CONFIG_CHECKPOINT_RESTORE off when it was loaded)"
	case errors.Is(err, unix.EINVAL):
		e.Hint = "the thread is not in seccomp filter mode (it may have exited and its pid been reused), or this kernel lacks CONFIG_CHECKPOINT_RESTORE"
	}
	return e
}
