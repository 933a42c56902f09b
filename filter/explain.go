package filter

import (
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/filter/bpf"
	"github.com/sysgate/sysgate/filter/syscalls"
)

// Explanation is the interpreter's verdict on one syscall of one ABI.
type Explanation struct {
	Arch    specs.Arch `json:"arch"`
	Syscall string     `json:"syscall"`
	Nr      int32      `json:"nr"`
	// Action is the verdict, e.g. "SCMP_ACT_ERRNO(1)"; when the verdict
	// depends on the arguments it is "depends on arguments".
	Action string `json:"action"`
	// Actions lists every distinct verdict seen over the sampled arguments.
	Actions []string `json:"actions"`
	// KernelCached: the kernel's action cache allows this syscall without
	// running the filter (x86_64 and x86 only; x32 numbers are never
	// cached).
	KernelCached bool `json:"kernelCached"`
	// ByNumber: the profile names this syscall, libseccomp cannot, and
	// sysgate filters it by its number (numbered.go).
	ByNumber bool `json:"byNumber,omitempty"`
	// KernelLacks: sysgate filters it by number and the kernel it compiled
	// on lacks it, so the filter answers ENOSYS, as the kernel would.
	KernelLacks bool `json:"kernelLacks,omitempty"`
}

// highestSyscallNr bounds the syscall numbers explained per ABI; x86
// numbers stay well below it.
const highestSyscallNr = 1024

// Explain runs the compiled program in the interpreter for every syscall
// of arch in sysgate's table (or only the one called only, if given). The
// arguments are sampled from the profile's own conditions, so that a verdict
// that depends on them shows up as more than one action.
func Explain(p *Program, profile *specs.LinuxSeccomp, arch specs.Arch, only string) ([]Explanation, error) {
	audit, base, err := AuditArch(arch)
	if err != nil {
		return nil, err
	}
	samples := argSamples(profile)
	var out []Explanation
	for _, n := range explainedNumbers(arch) {
		nr := base | n
		name, ok := SyscallName(nr, arch)
		if !ok || (only != "" && name != only) {
			continue
		}
		e, err := explainOne(p, samples, arch, audit, nr, name)
		if err != nil {
			return nil, err
		}
		for _, n := range p.ByNumber {
			if n.Arch == arch && n.Nr == nr {
				e.ByNumber, e.KernelLacks = true, n.KernelLacks
			}
		}
		out = append(out, e)
	}
	if only != "" && len(out) == 0 {
		return nil, fmt.Errorf("%q is not a syscall of %s in sysgate's table (Linux %s)", only, arch, syscalls.KernelVersion)
	}
	if only == "" {
		// One number past the table stands for every syscall newer than
		// the table.
		e, err := explainOne(p, samples, arch, audit, base|highestSyscallNr, fmt.Sprintf("(unknown nr %d)", highestSyscallNr))
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// explainedNumbers are the numbers Explain looks up: the syscall table
// proper, and on arm the private calls at 0x0f0000 (cacheflush, set_tls).
func explainedNumbers(arch specs.Arch) []int32 {
	var out []int32
	for n := int32(0); n < highestSyscallNr; n++ {
		out = append(out, n)
	}
	if arch == specs.ArchARM {
		for n := int32(armPrivateBase); n < armPrivateBase+0x100; n++ {
			out = append(out, n)
		}
	}
	return out
}

// armPrivateBase is __ARM_NR_BASE: arm's private calls are numbered from it.
const armPrivateBase = 0x0f0000

func explainOne(p *Program, samples [][6]uint64, arch specs.Arch, audit uint32, nr int32, name string) (Explanation, error) {
	e := Explanation{Arch: arch, Syscall: name, Nr: nr &^ bpf.X32SyscallBit}
	for _, args := range samples {
		ret, _, err := bpf.Run(p.Instructions, bpf.SeccompData{Nr: nr, Arch: audit, Args: args})
		if err != nil {
			return e, fmt.Errorf("interpreting the filter for %s on %s: %w", name, arch, err)
		}
		if a := bpf.RetName(ret); !slices.Contains(e.Actions, a) {
			e.Actions = append(e.Actions, a)
		}
	}
	e.KernelCached = arch != specs.ArchX32 && bpf.ConstantAllow(p.Instructions, audit, nr)
	e.Action = e.Actions[0]
	if len(e.Actions) > 1 {
		e.Action = "depends on arguments"
	}
	return e, nil
}

// AuditArch maps an architecture to the seccomp_data.arch value the kernel
// reports and the bits every syscall number of that ABI carries.
func AuditArch(arch specs.Arch) (audit uint32, nrBits int32, err error) {
	if m := MachineOf(arch); m != nil {
		abi := m.abi(arch)
		return abi.audit, abi.nrBit, nil
	}
	return 0, 0, fmt.Errorf("architecture %q is not one sysgate compiles for (%v)", arch, KnownArches())
}

// argSamples builds argument vectors that cross every boundary the profile's
// conditions draw: each compared value, its neighbours, and the masked
// values, placed at the condition's index, plus all-zero and all-one vectors.
func argSamples(profile *specs.LinuxSeccomp) [][6]uint64 {
	samples := [][6]uint64{{}, {^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}}
	if profile == nil {
		return samples
	}
	for _, rule := range profile.Syscalls {
		for _, arg := range rule.Args {
			if arg.Index > 5 {
				continue
			}
			for _, v := range []uint64{arg.Value, arg.Value - 1, arg.Value + 1, arg.ValueTwo, arg.Value | arg.ValueTwo, ^arg.Value} {
				var s [6]uint64
				s[arg.Index] = v
				if !slices.Contains(samples, s) {
					samples = append(samples, s)
				}
			}
		}
	}
	return samples
}
