package filter

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/sysgate/sysgate/filter/bpf"
)

// WeakenedByRuntimeCompile lists the syscalls p filters by number whose
// rules a runtime that compiles the profile itself with libseccomp (runc,
// or crun without sysgate's handoff) drops, so that they get less than the
// profile says; and what such a runtime may answer them instead.
//
// Such a runtime resolves every name with its libseccomp and ignores the
// names it cannot (runc: "unknown seccomp syscall ignored"); it takes no
// syscall numbers and no BPF. A syscall sysgate filters by number therefore
// gets the default action there, or ENOSYS from the stub runc puts before
// numbers above the highest one its libseccomp finds in the profile
// (libcontainer/seccomp/patchbpf; only for a default that is not ALLOW,
// LOG, TRACE or ERRNO(ENOSYS)). The weaker of the two is what the runtime
// may answer. A dropped rule that is not more restrictive than it (an ALLOW
// under an ERRNO default, or another errno) restricts the syscall at most
// more than the profile, and is not listed; nor is a syscall the kernel
// lacks, which returns ENOSYS either way. sysgate's own libseccomp stands
// for the runtime's: Debian's runc links the same 2.5.4.
func WeakenedByRuntimeCompile(profile *specs.LinuxSeccomp, p *Program) (weakened []NumberedSyscall, instead uint32) {
	instead = retValue(profile.DefaultAction, profile.DefaultErrnoRet)
	if enosys := bpf.RetErrno | uint32(unix.ENOSYS); wantsEnosysStub(profile) && bpf.MoreRestrictive(instead, enosys) {
		instead = enosys
	}
	for _, n := range p.ByNumber {
		if !n.KernelLacks && bpf.MoreRestrictive(n.Action, instead) {
			weakened = append(weakened, n)
		}
	}
	return weakened, instead
}
