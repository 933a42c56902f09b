package filter

import (
	"fmt"
	"sort"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sysgate/sysgate/filter/bpf"
)

// KernelFlagSupported reports whether this kernel accepts a
// SECCOMP_FILTER_FLAG_* bit. Loading a NULL program with the flag answers
// without installing anything: EFAULT means the flag was accepted, EINVAL
// that it is unknown.
func KernelFlagSupported(bit uint) bool {
	// The kernel takes WAIT_KILLABLE_RECV only together with NEW_LISTENER.
	if bit&flagWaitKillableRecv != 0 {
		bit |= flagNewListener
	}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(bit), 0)
	return errno == unix.EFAULT
}

func checkKernelFlags(bits uint) error {
	var missing []string
	for name, bit := range flagNames() {
		if bits&bit != 0 && !KernelFlagSupported(bit) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("this kernel (%s) does not support %s; remove it from the profile's flags or run on a newer kernel", kernelRelease(), strings.Join(missing, ", "))
	}
	return nil
}

func flagNames() map[string]uint {
	m := map[string]uint{"SECCOMP_FILTER_FLAG_NEW_LISTENER": flagNewListener, "SECCOMP_FILTER_FLAG_TSYNC_ESRCH": flagTSyncESRCH}
	for name, bit := range flags {
		m[string(name)] = bit
	}
	return m
}

// KernelActionSupported asks the kernel (SECCOMP_GET_ACTION_AVAIL) whether it
// implements a SECCOMP_RET_* action.
func KernelActionSupported(action uint32) bool {
	a := action
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_ACTION_AVAIL, 0, uintptr(unsafe.Pointer(&a)))
	return errno == 0
}

// KernelActions lists the actions this kernel implements, with the names a
// profile uses.
func KernelActions() []string {
	var out []string
	for _, ret := range []uint32{bpf.RetKillProcess, bpf.RetKillThread, bpf.RetTrap, bpf.RetErrno, bpf.RetUserNotif, bpf.RetTrace, bpf.RetLog, bpf.RetAllow} {
		if KernelActionSupported(ret) {
			out = append(out, strings.TrimSuffix(bpf.RetName(ret), "(0)"))
		}
	}
	return out
}

// checkKernelActions finds every constant return in the program and asks
// whether the kernel implements it; the kernel itself would accept the
// program and kill the process on the first such return.
func checkKernelActions(insns []bpf.Instruction) error {
	seen := map[uint32]bool{}
	for _, in := range insns {
		if in.Code != bpf.OpReturnConstant {
			continue
		}
		action := in.K & bpf.RetActionFull
		if seen[action] {
			continue
		}
		seen[action] = true
		if !KernelActionSupported(action) {
			return fmt.Errorf("this kernel (%s) does not implement %s; remove that action from the profile or run on a newer kernel", kernelRelease(), strings.TrimSuffix(bpf.RetName(action), "(0)"))
		}
	}
	return nil
}

// KernelRelease is the running kernel's release (uname -r).
func KernelRelease() string { return kernelRelease() }

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown release"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// KernelFlags lists the SECCOMP_FILTER_FLAG_* names this kernel accepts.
func KernelFlags() []string {
	var out []string
	for name, bit := range flagNames() {
		if KernelFlagSupported(bit) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
