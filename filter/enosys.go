package filter

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/sysgate/sysgate/filter/bpf"
)

// The ENOSYS stub runs before libseccomp's program. A syscall number above
// the highest one the profile names (per ABI) belongs to a kernel newer than
// the profile: a program probing for it (glibc trying clone3, say) must see
// ENOSYS and fall back, not EPERM, which it would take as a real refusal.
// runc does the same; crun does not, so profiles behave differently there.
//
// Layout, with x86_64 and x32 sharing AUDIT_ARCH_X86_64 and told apart by
// bit 30 of the syscall number:
//
//	    ld  arch
//	    jeq AUDIT_ARCH_X86_64 -> amd64
//	    jeq AUDIT_ARCH_I386   -> i386
//	    ja  filter
//	amd64: ld nr; jset X32_BIT -> x32 ; jgt MAX_X86_64 -> enosys, filter
//	x32:   jgt MAX_X32 -> enosys, filter
//	i386:  ld nr; jgt MAX_I386 -> enosys, filter
//	enosys: ret ERRNO(ENOSYS)
//	filter: (libseccomp's program)
//
// An ABI the profile does not list gets no section: libseccomp's program
// applies its bad-arch action to it.
func enosysStub(profile *specs.LinuxSeccomp, archList []specs.Arch, names *resolver) ([]bpf.Instruction, error) {
	if !wantsEnosysStub(profile) {
		return nil, nil
	}
	highest := highestSyscalls(profile, archList, names)
	if len(highest) == 0 {
		return nil, nil
	}

	var a bpf.Assembler
	a.Emit(bpf.LoadAbsolute(bpf.OffsetArch))
	_, has64 := highest[specs.ArchX86_64]
	_, hasX32 := highest[specs.ArchX32]
	if has64 || hasX32 {
		a.JumpIf(bpf.OpJumpEqual, bpf.AuditArchX86_64, "amd64", "")
	}
	if _, ok := highest[specs.ArchX86]; ok {
		a.JumpIf(bpf.OpJumpEqual, bpf.AuditArchI386, "i386", "")
	}
	a.JumpAlways("filter")

	if has64 || hasX32 {
		a.Label("amd64")
		a.Emit(bpf.LoadAbsolute(bpf.OffsetNr))
		a.JumpIf(bpf.OpJumpSet, uint32(bpf.X32SyscallBit), "x32", "")
		rangeCheck(&a, highest, specs.ArchX86_64)
		a.Label("x32")
		rangeCheck(&a, highest, specs.ArchX32)
	}
	if _, ok := highest[specs.ArchX86]; ok {
		a.Label("i386")
		a.Emit(bpf.LoadAbsolute(bpf.OffsetNr))
		rangeCheck(&a, highest, specs.ArchX86)
	}
	a.Label("enosys")
	a.Emit(bpf.Return(bpf.RetErrno | uint32(unix.ENOSYS)))
	a.Label("filter")
	insns, err := a.Assemble()
	if err != nil {
		return nil, fmt.Errorf("ENOSYS stub: %w", err)
	}
	return insns, nil
}

// wantsEnosysStub follows runc: a permissive default action already lets new
// syscalls through, and a default errno of ENOSYS already says the right
// thing.
func wantsEnosysStub(profile *specs.LinuxSeccomp) bool {
	switch profile.DefaultAction {
	case specs.ActAllow, specs.ActLog, specs.ActTrace:
		return false
	case specs.ActErrno:
		return profile.DefaultErrnoRet == nil || *profile.DefaultErrnoRet != uint(unix.ENOSYS)
	}
	return true
}

// highestSyscalls finds, per architecture, the highest syscall number among
// all names in the profile that the filter has rules for on that
// architecture: libseccomp's number where it knows the name (a name it
// turns into a multiplexer rule on i386 does not count, as in runc), and
// the table's where sysgate filters the name by number, so that the stub
// never hides a rule by number behind ENOSYS.
func highestSyscalls(profile *specs.LinuxSeccomp, archList []specs.Arch, names *resolver) map[specs.Arch]uint32 {
	highest := map[specs.Arch]uint32{}
	for _, arch := range archList {
		for _, rule := range profile.Syscalls {
			for _, name := range rule.Names {
				v := names.resolve(name, arch)
				nr, ok := v.libNr, v.libReal
				if v.byNumber {
					nr, ok = v.nr, true
				}
				if ok && uint32(nr) >= highest[arch] {
					highest[arch] = uint32(nr)
				}
			}
		}
	}
	return highest
}

// rangeCheck sends numbers above the arch's highest to ENOSYS and the rest
// to libseccomp's program; an arch without rules goes straight there.
func rangeCheck(a *bpf.Assembler, highest map[specs.Arch]uint32, arch specs.Arch) {
	max, ok := highest[arch]
	if !ok {
		a.JumpAlways("filter")
		return
	}
	a.JumpIf(bpf.OpJumpGreater, max, "enosys", "filter")
}
