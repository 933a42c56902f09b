package verify

import (
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/bpf"
)

// abi is one way into the kernel a filter sees: the arch value and the
// bits every syscall number of that ABI carries.
type abi struct {
	arch   specs.Arch
	audit  uint32
	nrBits int32
}

// abis are the x86 family's three ABIs: a process on an x86_64 kernel can
// enter through any of them (int $0x80, the x32 bit), so a filter must
// mean the same for all three.
var abis = []abi{
	{specs.ArchX86_64, bpf.AuditArchX86_64, 0},
	{specs.ArchX86, bpf.AuditArchI386, 0},
	{specs.ArchX32, bpf.AuditArchX86_64, bpf.X32SyscallBit},
}

// syscallBound: every number below it is compared. The x86 tables end near
// 550 (x32's own calls); the rest up to the bound stands for syscalls newer
// than every table, where the ENOSYS stub and its absence differ.
const syscallBound = 1024

// beyondBound are numbers past the bound a filter might still treat
// specially: a range check's edges, 16- and 30-bit boundaries.
var beyondBound = []int32{syscallBound, syscallBound + 1, 4095, 4096, 65535, 65536, 1 << 24, 0x3fffffff}

// syscallNumbers are the numbers compared for every ABI, before the ABI's
// bits are added.
func syscallNumbers() []int32 {
	nrs := make([]int32, 0, syscallBound+len(beyondBound))
	for n := int32(0); n < syscallBound; n++ {
		nrs = append(nrs, n)
	}
	return append(nrs, beyondBound...)
}

// maxSamples bounds the argument vectors per syscall: a foreign filter full
// of constants must not make a comparison take minutes.
const maxSamples = 1024

// argSamples are the argument vectors compared wherever a verdict may
// depend on the arguments: filter.ArgSamples of the decided profile (the
// boundaries its conditions draw, one argument at a time), each rule's
// conditions met all at once (a rule on two arguments allows only when
// both match), and the boundaries the programs themselves draw, mined from
// their comparisons with argument words, so that a filter from another
// profile is probed where it decides too.
func argSamples(profile *specs.LinuxSeccomp, programs ...[]bpf.Instruction) [][6]uint64 {
	samples := filter.ArgSamples(profile)
	seen := make(map[[6]uint64]bool, len(samples))
	for _, s := range samples {
		seen[s] = true
	}
	add := func(s [6]uint64) {
		if len(samples) < maxSamples && !seen[s] {
			seen[s] = true
			samples = append(samples, s)
		}
	}
	if profile != nil {
		for _, rule := range profile.Syscalls {
			var all [6]uint64
			n := 0
			for _, a := range rule.Args {
				if a.Index <= 5 {
					all[a.Index] = matching(a)
					n++
				}
			}
			if n > 1 {
				add(all)
			}
		}
	}
	for _, p := range programs {
		for _, c := range programConstants(p) {
			for _, v := range c.values() {
				var s [6]uint64
				s[c.index] = v
				add(s)
			}
		}
	}
	return samples
}

// matching is a value that meets the condition.
func matching(a specs.LinuxSeccompArg) uint64 {
	switch a.Op {
	case specs.OpNotEqual:
		return a.Value + 1
	case specs.OpLessThan:
		return a.Value - 1
	case specs.OpGreaterThan:
		return a.Value + 1
	case specs.OpMaskedEqual:
		return a.ValueTwo
	}
	return a.Value
}

// argConstant is a constant a program compares one half of an argument
// with.
type argConstant struct {
	index int
	high  bool // the upper 32 bits of the argument
	k     uint32
}

// values are 64-bit arguments on both sides of the constant, with the
// other half zero or all ones (a negative int passed in a long).
func (c argConstant) values() []uint64 {
	var out []uint64
	for _, k := range []uint32{c.k, c.k - 1, c.k + 1, ^c.k} {
		for _, other := range []uint32{0, ^uint32(0)} {
			lo, hi := k, other
			if c.high {
				lo, hi = other, k
			}
			out = append(out, uint64(hi)<<32|uint64(lo))
		}
	}
	return out
}

// programConstants finds the argument words a program compares with
// constants: a conditional jump against K while A holds a word of an
// argument (loaded from seccomp_data, possibly masked with AND). What A
// holds is followed along every path: jumps only go forward, so one pass
// in order sees every way into an instruction before the instruction, and
// where the ways disagree A holds no argument. A constant it misses only
// means fewer samples.
func programConstants(insns []bpf.Instruction) []argConstant {
	const (
		unreached = -2
		other     = -1 // A holds something that is not an argument word
	)
	holds := make([]int, len(insns)+1) // what A holds on entry, by instruction
	for i := range holds {
		holds[i] = unreached
	}
	holds[0] = other
	flow := func(to, a int) {
		switch {
		case to >= len(holds):
		case holds[to] == unreached:
			holds[to] = a
		case holds[to] != a:
			holds[to] = other
		}
	}
	var out []argConstant
	for pc, in := range insns {
		a := holds[pc]
		if a == unreached {
			continue
		}
		switch in.Code {
		case bpf.OpLoadAbsolute:
			a = other
			if in.K >= bpf.OffsetArgs && in.K < bpf.SeccompDataSize {
				a = int(in.K)
			}
			flow(pc+1, a)
		case bpf.OpJumpEqual, bpf.OpJumpGreater, bpf.OpJumpGreaterEqual, bpf.OpJumpSet:
			if a >= 0 {
				c := argConstant{index: (a - bpf.OffsetArgs) / 8, high: (a-bpf.OffsetArgs)%8 == 4, k: in.K}
				if !slices.Contains(out, c) {
					out = append(out, c)
				}
			}
			flow(pc+1+int(in.Jt), a)
			flow(pc+1+int(in.Jf), a)
		case bpf.OpJumpAlways:
			flow(pc+1+int(in.K), a)
		case bpf.OpReturnConstant:
		case opAndK:
			flow(pc+1, a)
		default:
			// Any other jump goes where this pass does not follow A
			// precisely; its targets hold no argument as far as it knows.
			if in.Code&0x07 == 0x05 {
				flow(pc+1+int(in.Jt), other)
				flow(pc+1+int(in.Jf), other)
				continue
			}
			if in.Code&0x07 != 0x06 {
				flow(pc+1, other)
			}
		}
	}
	return out
}

// opAndK is BPF_ALU|BPF_AND|BPF_K, which compilers use for masked
// comparisons (SCMP_CMP_MASKED_EQ).
const opAndK = 0x54
