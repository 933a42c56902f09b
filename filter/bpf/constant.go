package bpf

// ConstantResult follows the program knowing only the syscall number and
// the architecture, as the kernel's action-cache emulation does
// (seccomp_is_const_allow in kernel/seccomp.c), and returns the value it
// reaches when that value cannot depend on anything else: a path that
// loads an argument or the instruction pointer, or runs an instruction the
// emulation does not model, gives ok = false. A caller comparing programs
// over every syscall can then sample arguments only where they matter. The
// program must have passed Check.
func ConstantResult(insns []Instruction, arch uint32, nr int32) (ret uint32, ok bool) {
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
				return 0, false
			}
		case bpfRET | bpfK:
			return in.K, true
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
			return 0, false
		}
	}
	return 0, false
}
