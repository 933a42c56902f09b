package verify

import "github.com/sysgate/sysgate/filter/bpf"

// stacked is what the kernel makes of the return values of every filter a
// thread holds, newest first (seccomp_run_filters in kernel/seccomp.c): the
// value whose action is lowest as a signed 32-bit number wins, so
// KILL_PROCESS beats KILL_THREAD beats TRAP beats ERRNO ... beats ALLOW;
// between equal actions the newest filter's value (and so its errno) wins.
// No filter at all allows.
func stacked(rets []uint32) uint32 {
	ret := bpf.RetAllow
	for _, r := range rets {
		if int32(r&bpf.RetActionFull) < int32(ret&bpf.RetActionFull) {
			ret = r
		}
	}
	return ret
}

// maxErrno is the kernel's MAX_ERRNO: an ERRNO value above it returns it.
const maxErrno = 4095

// meaning reduces a return value to what the kernel does with it
// (__seccomp_filter): the action, as the kernel reads it (an unknown one
// kills the process), and the data only where the action uses it: the
// errno (capped at MAX_ERRNO), TRAP's si_errno and TRACE's event message.
// Two values with the same meaning are the same verdict.
func meaning(ret uint32) uint32 {
	action := bpf.RetAction(ret)
	data := ret & bpf.RetData
	switch action {
	case bpf.RetErrno:
		return action | min(data, maxErrno)
	case bpf.RetTrap, bpf.RetTrace:
		return action | data
	}
	return action
}
