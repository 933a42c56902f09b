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
	add := func(s [6]uint64) {
		if len(samples) < maxSamples && !slices.Contains(samples, s) {
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
// constants: a load of args[i] (low or high word), optionally masked with
// AND, followed by conditional jumps against K. It follows no paths, only
// the straight-line pattern every seccomp compiler emits; a constant it
// misses only means fewer samples.
func programConstants(insns []bpf.Instruction) []argConstant {
	var out []argConstant
	loaded := -1 // offset in seccomp_data of what A holds, -1: not an argument
	for _, in := range insns {
		switch in.Code {
		case bpf.OpLoadAbsolute:
			loaded = -1
			if in.K >= bpf.OffsetArgs && in.K < bpf.SeccompDataSize {
				loaded = int(in.K)
			}
		case bpf.OpJumpEqual, bpf.OpJumpGreater, bpf.OpJumpGreaterEqual, bpf.OpJumpSet:
			if loaded < 0 {
				continue
			}
			c := argConstant{index: (loaded - bpf.OffsetArgs) / 8, high: (loaded-bpf.OffsetArgs)%8 == 4, k: in.K}
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		case opAndK, bpf.OpJumpAlways, bpf.OpReturnConstant:
			// A masked word is still the argument's; jumps and returns
			// leave A alone.
		default:
			loaded = -1
		}
	}
	return out
}

// opAndK is BPF_ALU|BPF_AND|BPF_K, which compilers use for masked
// comparisons (SCMP_CMP_MASKED_EQ).
const opAndK = 0x54
