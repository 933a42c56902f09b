package filter

import (
	"fmt"
	"slices"

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
// applies its bad-arch action to it. On arm64, AUDIT_ARCH_AARCH64 and
// AUDIT_ARCH_ARM each get a section like i386's (runc's stub covers arm64
// the same way). arm's private calls (0x0f0000 and up: cacheflush,
// set_tls, which containerd's arm64 profile allows) do not count towards
// arm's highest number and always go on to the filter: counted, they would
// lift the bound past every future syscall, which would then get the
// default errno on arm and ENOSYS on aarch64 (TestMachinesAgree).
func enosysStub(profile *specs.LinuxSeccomp, archList []specs.Arch, machine *Machine, names *resolver) ([]bpf.Instruction, error) {
	if !wantsEnosysStub(profile) {
		return nil, nil
	}
	highest := highestSyscalls(profile, archList, names)
	if len(highest) == 0 {
		return nil, nil
	}
	var groups [][]machineABI
	for _, g := range machine.auditGroups() {
		if slices.ContainsFunc(g, func(a machineABI) bool { _, ok := highest[a.arch]; return ok }) {
			groups = append(groups, g)
		}
	}

	var a bpf.Assembler
	a.Emit(bpf.LoadAbsolute(bpf.OffsetArch))
	for _, g := range groups {
		a.JumpIf(bpf.OpJumpEqual, g[0].audit, groupLabel(g), "")
	}
	a.JumpAlways("filter")
	for _, g := range groups {
		a.Label(groupLabel(g))
		a.Emit(bpf.LoadAbsolute(bpf.OffsetNr))
		if len(g) == 1 {
			rangeCheck(&a, highest, g[0].arch)
			continue
		}
		low, high := g[0], g[1]
		if low.nrBit != 0 {
			low, high = high, low
		}
		a.JumpIf(bpf.OpJumpSet, uint32(high.nrBit), "high-"+groupLabel(g), "")
		rangeCheck(&a, highest, low.arch)
		a.Label("high-" + groupLabel(g))
		rangeCheck(&a, highest, high.arch)
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
				if arch == specs.ArchARM && nr >= armPrivateBase {
					continue // arm's private calls: rangeCheck passes them on
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
	if arch == specs.ArchARM {
		a.JumpIf(bpf.OpJumpGreaterEqual, armPrivateBase, "filter", "")
	}
	a.JumpIf(bpf.OpJumpGreater, max, "enosys", "filter")
}
