package filter

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sysgate/sysgate/filter/bpf"
)

// LoadOptions say how the calling process is prepared for the filter.
type LoadOptions struct {
	// NoNewPrivs sets no_new_privs before loading, as the OCI spec's
	// process.noNewPrivileges does. Without it the kernel accepts a filter
	// only from a process with CAP_SYS_ADMIN.
	NoNewPrivs bool
}

// Load installs the program into the calling thread (all threads if the
// profile asked for TSYNC) and returns the user-notification fd when the
// program has NOTIFY rules, or -1. The caller must hold the OS thread
// (runtime.LockOSThread) until it execs, since the filter belongs to the
// thread that loaded it.
//
// Before loading it checks that this kernel supports every flag and every
// action the program uses: an unsupported flag is an error, never dropped,
// and an unsupported action would make the kernel kill the process.
func Load(p *Program, opts LoadOptions) (listenerFd int, err error) {
	if err := bpf.Check(p.Instructions); err != nil {
		return -1, fmt.Errorf("refusing to load a malformed filter: %w", err)
	}
	if err := checkKernelFlags(p.Flags); err != nil {
		return -1, err
	}
	if err := checkKernelActions(p.Instructions); err != nil {
		return -1, err
	}
	if opts.NoNewPrivs {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return -1, fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
		}
	}
	fd, err := seccompSetModeFilter(p.Flags, p.Instructions)
	switch {
	case errors.Is(err, unix.EACCES):
		return -1, errors.New("seccomp(2) refused the filter with EACCES: the process has neither no_new_privs nor CAP_SYS_ADMIN; set noNewPrivileges (sysgate exec does unless --no-new-privs=false) or run with CAP_SYS_ADMIN")
	case errors.Is(err, unix.ESRCH) && p.Flags&flagTSync != 0:
		return -1, errors.New("seccomp(2): SECCOMP_FILTER_FLAG_TSYNC could not apply the filter to every thread (another thread has a diverging filter)")
	case err != nil:
		return -1, fmt.Errorf("seccomp(2) SECCOMP_SET_MODE_FILTER with flags %v: %w", p.FlagNames(), err)
	}
	if p.NeedsListener() {
		return fd, nil
	}
	if fd != 0 && p.Flags&flagTSync != 0 {
		return -1, fmt.Errorf("seccomp(2): SECCOMP_FILTER_FLAG_TSYNC failed for thread %d", fd)
	}
	return -1, nil
}

func seccompSetModeFilter(flags uint, insns []bpf.Instruction) (int, error) {
	if len(insns) == 0 {
		return -1, errors.New("empty filter")
	}
	// bpf.Instruction has the layout of struct sock_filter, so the slice can be
	// handed to the kernel as is.
	fprog := unix.SockFprog{
		Len:    uint16(len(insns)),
		Filter: (*unix.SockFilter)(unsafe.Pointer(&insns[0])),
	}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(insns)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}
