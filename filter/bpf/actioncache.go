package bpf

// ConstantAllow reports whether the kernel's seccomp action cache (Linux
// 5.11+) will answer this syscall without running the filter: the kernel
// emulates the filter for each syscall number with only nr and arch known,
// and caches ALLOW when the outcome cannot depend on anything else. This
// mirrors seccomp_is_const_allow() in kernel/seccomp.c: any load of the
// arguments or the instruction pointer, or any instruction it does not
// model, makes the syscall uncacheable, so a filter that reads an argument
// before dispatching on nr turns the cache off for every syscall.
func ConstantAllow(insns []Instruction, arch uint32, nr int32) bool {
	var a uint32
	for pc := 0; pc < len(insns); pc++ {
		in := insns[pc]
		switch in.Code {
		case bpfLD | bpfW | bpfABS:
			switch in.K {
			case OffsetNr:
				a = uint32(nr)
			case OffsetArch:
				a = arch
			default:
				return false
			}
		case bpfRET | bpfK:
			return in.K == RetAllow
		case bpfJMP | bpfJA:
			pc += int(in.K)
		case bpfJMP | bpfJEQ | bpfK, bpfJMP | bpfJGE | bpfK, bpfJMP | bpfJGT | bpfK, bpfJMP | bpfJSET | bpfK:
			var taken bool
			switch in.Code &^ (bpfJMP | bpfK) {
			case bpfJEQ:
				taken = a == in.K
			case bpfJGE:
				taken = a >= in.K
			case bpfJGT:
				taken = a > in.K
			case bpfJSET:
				taken = a&in.K != 0
			}
			if taken {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case bpfALU | bpfAND | bpfK:
			a &= in.K
		default:
			return false
		}
	}
	return false
}
