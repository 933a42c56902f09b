package conformance

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/conformance/probe"
)

// archCases: the same rule through each x86 entry point. The probe is a
// 64-bit program; it reaches the i386 table with int $0x80 and the x32 one
// with the x32 bit, which is how a process would try to slip past a filter
// that covers only x86_64.
func archCases() []Case {
	mkdirRule := ruleErrno(specs.ActErrno, errnoEXDEV, "mkdir")
	listed := func(arches ...specs.Arch) *specs.LinuxSeccomp {
		return with(allowing(mkdirRule), func(p *specs.LinuxSeccomp) { p.Architectures = arches })
	}
	return []Case{
		{
			Name: "arch/native-listed", Rule: ruleArch,
			Summary: "architectures [X86_64, X86, X32]: native mkdir gets the rule's EXDEV",
			Profile: listed(x86Family...), Do: probeCall("mkdir", mkdirArgs...), Want: want("errno:EXDEV"),
		},
		{
			Name: "arch/i386-listed", Rule: ruleArch,
			Summary: "architectures [X86_64, X86, X32]: i386 mkdir (int $0x80, nr 39) gets the same EXDEV",
			Profile: listed(x86Family...), Do: probeCallABI(probe.ABII386, "mkdir", mkdirArgs...), Want: want("errno:EXDEV"),
		},
		{
			Name: "arch/x32-listed", Rule: ruleArch,
			Summary: "architectures [X86_64, X86, X32]: x32 mkdir gets the same EXDEV (seccomp runs before the kernel's x32 dispatch)",
			Profile: listed(x86Family...), Do: probeCallABI(probe.ABIX32, "mkdir", mkdirArgs...), Want: want("errno:EXDEV"),
		},
		{
			Name: "arch/i386-allowed-call", Rule: ruleArch,
			Summary: "architectures [X86_64, X86]: an i386 call no rule matches gets the default action (allow)",
			Profile: listed(specs.ArchX86_64, specs.ArchX86), Do: probeCallABI(probe.ABII386, "umask", "18"), Want: want("allowed"),
		},
		{
			Name: "arch/i386-unlisted", Rule: ruleBadArch,
			Summary: "architectures [X86_64]: i386 mkdir does not pass (libseccomp's bad-arch action kills)",
			Profile: listed(specs.ArchX86_64), Do: probeCallABI(probe.ABII386, "mkdir", mkdirArgs...), Want: want("killed:SIGSYS"),
		},
		{
			Name: "arch/x32-unlisted", Rule: ruleBadArch,
			Summary: "architectures [X86_64]: x32 mkdir does not pass (killed, or ENOSYS from the runtime's stub)",
			Profile: listed(specs.ArchX86_64), Do: probeCallABI(probe.ABIX32, "mkdir", mkdirArgs...),
			Want: want("killed:SIGSYS", "errno:ENOSYS"), NeedsX32: true,
		},
		{
			Name: "arch/none-listed-i386", Rule: ruleBadArch,
			Summary: "no architectures: the filter covers the native ABI only, and i386 mkdir does not pass",
			Profile: listed(), Do: probeCallABI(probe.ABII386, "mkdir", mkdirArgs...), Want: want("killed:SIGSYS"),
		},
		{
			Name: "arch/none-listed-native", Rule: ruleArch,
			Summary: "no architectures: the native ABI still gets the rules",
			Profile: listed(), Do: probeCall("mkdir", mkdirArgs...), Want: want("errno:EXDEV"),
		},
	}
}
