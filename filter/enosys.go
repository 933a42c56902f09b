package filter

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
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
func enosysStub(profile *specs.LinuxSeccomp, archList []specs.Arch) ([]Instruction, error) {
	if !wantsEnosysStub(profile) {
		return nil, nil
	}
	highest := highestSyscalls(profile, archList)
	if len(highest) == 0 {
		return nil, nil
	}

	var a assembler
	a.emit(stmt(bpfLD|bpfW|bpfABS, offsetArch))
	_, has64 := highest[specs.ArchX86_64]
	_, hasX32 := highest[specs.ArchX32]
	if has64 || hasX32 {
		a.jumpIf(bpfJEQ, AuditArchX86_64, "amd64", "")
	}
	if _, ok := highest[specs.ArchX86]; ok {
		a.jumpIf(bpfJEQ, AuditArchI386, "i386", "")
	}
	a.jumpAlways("filter")

	if has64 || hasX32 {
		a.label("amd64")
		a.emit(stmt(bpfLD|bpfW|bpfABS, offsetNr))
		a.jumpIf(bpfJSET, uint32(X32SyscallBit), "x32", "")
		a.rangeCheck(highest, specs.ArchX86_64)
		a.label("x32")
		a.rangeCheck(highest, specs.ArchX32)
	}
	if _, ok := highest[specs.ArchX86]; ok {
		a.label("i386")
		a.emit(stmt(bpfLD|bpfW|bpfABS, offsetNr))
		a.rangeCheck(highest, specs.ArchX86)
	}
	a.label("enosys")
	a.emit(stmt(bpfRET|bpfK, RetErrno|uint32(unix.ENOSYS)))
	a.label("filter")
	return a.assemble()
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
// all names in the profile that exist on that architecture.
func highestSyscalls(profile *specs.LinuxSeccomp, archList []specs.Arch) map[specs.Arch]uint32 {
	highest := map[specs.Arch]uint32{}
	for _, arch := range archList {
		for _, rule := range profile.Syscalls {
			for _, name := range rule.Names {
				nr, ok := SyscallNumber(name, arch)
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
func (a *assembler) rangeCheck(highest map[specs.Arch]uint32, arch specs.Arch) {
	max, ok := highest[arch]
	if !ok {
		a.jumpAlways("filter")
		return
	}
	a.jumpIf(bpfJGT, max, "enosys", "filter")
}

// assembler emits a short forward-only program with symbolic jump targets;
// an empty target means the next instruction.
type assembler struct {
	insns  []Instruction
	labels map[string]int
	fixups []fixup
}

type fixup struct {
	at            int
	jt, jf        string
	unconditional bool
}

func (a *assembler) emit(in Instruction) { a.insns = append(a.insns, in) }

func (a *assembler) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.insns)
}

func (a *assembler) jumpIf(op uint16, k uint32, jt, jf string) {
	a.fixups = append(a.fixups, fixup{at: len(a.insns), jt: jt, jf: jf})
	a.emit(jump(bpfJMP|op|bpfK, k, 0, 0))
}

func (a *assembler) jumpAlways(target string) {
	a.fixups = append(a.fixups, fixup{at: len(a.insns), jt: target, unconditional: true})
	a.emit(stmt(bpfJMP|bpfJA, 0))
}

func (a *assembler) assemble() ([]Instruction, error) {
	offset := func(from int, target string) (int, error) {
		if target == "" {
			return 0, nil
		}
		to, ok := a.labels[target]
		if !ok {
			return 0, fmt.Errorf("ENOSYS stub: undefined label %q", target)
		}
		if to <= from {
			return 0, fmt.Errorf("ENOSYS stub: backward jump to %q", target)
		}
		return to - from - 1, nil
	}
	for _, f := range a.fixups {
		jt, err := offset(f.at, f.jt)
		if err != nil {
			return nil, err
		}
		if f.unconditional {
			a.insns[f.at].K = uint32(jt)
			continue
		}
		jf, err := offset(f.at, f.jf)
		if err != nil {
			return nil, err
		}
		// The stub is a few dozen instructions, so conditional offsets always
		// fit in 8 bits; refuse rather than wrap if that ever changes.
		if jt > 255 || jf > 255 {
			return nil, fmt.Errorf("ENOSYS stub: jump too long at instruction %d", f.at)
		}
		a.insns[f.at].Jt, a.insns[f.at].Jf = uint8(jt), uint8(jf)
	}
	return a.insns, nil
}
