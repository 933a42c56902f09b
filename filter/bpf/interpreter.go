package bpf

import (
	"encoding/binary"
	"fmt"
)

// ProgramError says why the kernel would refuse a seccomp program with
// EINVAL. Index is the offending instruction, or -1 when the program as a
// whole is at fault (empty, too long).
type ProgramError struct {
	Index  int
	Reason string
}

func (e *ProgramError) Error() string {
	if e.Index < 0 {
		return "invalid seccomp program: " + e.Reason
	}
	return fmt.Sprintf("invalid seccomp program: instruction %d: %s", e.Index, e.Reason)
}

func badInsn(pc int, format string, args ...any) *ProgramError {
	return &ProgramError{Index: pc, Reason: fmt.Sprintf(format, args...)}
}

// Full opcodes the checker and the interpreter switch on.
const (
	opLdAbsW  = bpfLD | bpfW | bpfABS
	opLdLen   = bpfLD | bpfW | bpfLEN
	opLdImm   = bpfLD | bpfIMM
	opLdMem   = bpfLD | bpfMEM
	opLdxLen  = bpfLDX | bpfW | bpfLEN
	opLdxImm  = bpfLDX | bpfIMM
	opLdxMem  = bpfLDX | bpfMEM
	opSt      = bpfST
	opStx     = bpfSTX
	opRetK    = bpfRET | bpfK
	opRetA    = bpfRET | bpfA
	opTax     = bpfMISC | bpfTAX
	opTxa     = bpfMISC | bpfTXA
	opJa      = bpfJMP | bpfJA
	opNeg     = bpfALU | bpfNEG
	opDivK    = bpfALU | bpfDIV | bpfK
	opDivX    = bpfALU | bpfDIV | bpfX
	opLshK    = bpfALU | bpfLSH | bpfK
	opRshK    = bpfALU | bpfRSH | bpfK
	classMask = 0x07
	opMask    = 0xf0
	srcMask   = 0x08
)

// Check applies the checks the kernel runs before it attaches a seccomp
// filter (bpf_check_classic in net/core/filter.c, then seccomp_check_filter
// in kernel/seccomp.c) and returns a *ProgramError for the first
// instruction it would refuse. A program it accepts is one Run can execute to
// a RET without leaving the program or reading unset memory.
func Check(insns []Instruction) error {
	n := len(insns)
	if n == 0 {
		return &ProgramError{Index: -1, Reason: "empty program"}
	}
	if n > MaxInstructions {
		return &ProgramError{Index: -1, Reason: fmt.Sprintf("%d instructions, more than the kernel's limit of %d", n, MaxInstructions)}
	}
	for pc, in := range insns {
		if err := checkInstruction(pc, in, n); err != nil {
			return err
		}
	}
	if last := insns[n-1].Code; last != opRetK && last != opRetA {
		return badInsn(n-1, "last instruction (code 0x%02x) is not a RET, so execution could run off the end", last)
	}
	return checkScratchReads(insns)
}

func checkInstruction(pc int, in Instruction, n int) *ProgramError {
	switch in.Code {
	case opLdAbsW:
		if in.K >= SeccompDataSize {
			return badInsn(pc, "load from offset %d, past the %d-byte seccomp_data", in.K, SeccompDataSize)
		}
		if in.K%4 != 0 {
			return badInsn(pc, "load from offset %d, which is not 4-byte aligned", in.K)
		}
	case opLdLen, opLdxLen, opLdImm, opLdxImm, opTax, opTxa, opRetK, opRetA, opNeg:
	case opLdMem, opLdxMem, opSt, opStx:
		if in.K >= bpfMemWords {
			return badInsn(pc, "scratch memory index %d, only M[0]..M[%d] exist", in.K, bpfMemWords-1)
		}
	case opJa:
		// Compared in 64 bits: K near 2^32 must not wrap into range.
		if uint64(in.K) >= uint64(n-pc-1) {
			return badInsn(pc, "ja +%d jumps to %d, past the last instruction %d", in.K, uint64(pc)+1+uint64(in.K), n-1)
		}
	default:
		switch in.Code & classMask {
		case bpfALU:
			return checkALU(pc, in)
		case bpfJMP:
			return checkCondJump(pc, in, n)
		}
		if isClassicOnly(in.Code) {
			return badInsn(pc, "opcode 0x%02x is classic BPF that seccomp does not allow", in.Code)
		}
		return badInsn(pc, "unknown opcode 0x%02x", in.Code)
	}
	return nil
}

func checkALU(pc int, in Instruction) *ProgramError {
	if in.Code&^(opMask|srcMask|classMask) != 0 {
		return badInsn(pc, "unknown opcode 0x%02x", in.Code)
	}
	switch in.Code & opMask {
	case bpfADD, bpfSUB, bpfMUL, bpfOR, bpfAND, bpfXOR:
	case bpfDIV:
		if in.Code == opDivK && in.K == 0 {
			return badInsn(pc, "division by constant 0")
		}
	case bpfLSH, bpfRSH:
		if (in.Code == opLshK || in.Code == opRshK) && in.K >= 32 {
			return badInsn(pc, "shift by %d, 32 or more bits", in.K)
		}
	case bpfMOD:
		// The kernel's seccomp whitelist never gained MOD although
		// classic BPF has it; libseccomp never emits it.
		return badInsn(pc, "opcode 0x%02x (mod) is classic BPF that seccomp does not allow", in.Code)
	default:
		// NEG with the X bit set, or an operation number BPF lacks.
		return badInsn(pc, "unknown opcode 0x%02x", in.Code)
	}
	return nil
}

func checkCondJump(pc int, in Instruction, n int) *ProgramError {
	if in.Code&^(opMask|srcMask|classMask) != 0 {
		return badInsn(pc, "unknown opcode 0x%02x", in.Code)
	}
	switch in.Code & opMask {
	case bpfJEQ, bpfJGT, bpfJGE, bpfJSET:
	default:
		return badInsn(pc, "unknown opcode 0x%02x", in.Code)
	}
	if pc+1+int(in.Jt) >= n {
		return badInsn(pc, "true branch jumps to %d, past the last instruction %d", pc+1+int(in.Jt), n-1)
	}
	if pc+1+int(in.Jf) >= n {
		return badInsn(pc, "false branch jumps to %d, past the last instruction %d", pc+1+int(in.Jf), n-1)
	}
	return nil
}

// isClassicOnly reports opcodes that bpf_check_classic accepts for socket
// filters but seccomp_check_filter refuses, so the error can say so.
func isClassicOnly(code uint16) bool {
	switch code {
	case bpfLD | bpfH | bpfABS, bpfLD | bpfB | bpfABS,
		bpfLD | bpfW | bpfIND, bpfLD | bpfH | bpfIND, bpfLD | bpfB | bpfIND,
		bpfLDX | bpfB | bpfMSH:
		return true
	}
	return false
}

// checkScratchReads mirrors the kernel's check_load_and_stores: the kernel
// does not clear scratch memory before a run, so it refuses any program that
// could read M[k] on a path where M[k] was not stored first. The walk is
// linear because jumps only go forward; masks[pc] holds the slots stored on
// every jump into pc. Like the kernel, falling through a RET does not reset
// the set of valid slots.
func checkScratchReads(insns []Instruction) error {
	var masks [MaxInstructions]uint16
	for i := range insns {
		masks[i] = 0xffff
	}
	var valid uint16
	for pc, in := range insns {
		valid &= masks[pc]
		switch in.Code {
		case opSt, opStx:
			valid |= 1 << in.K
		case opLdMem, opLdxMem:
			if valid&(1<<in.K) == 0 {
				return badInsn(pc, "reads M[%d], which some path reaches without storing it", in.K)
			}
		case opJa:
			masks[pc+1+int(in.K)] &= valid
			valid = 0xffff
		default:
			if in.Code&classMask == bpfJMP {
				masks[pc+1+int(in.Jt)] &= valid
				masks[pc+1+int(in.Jf)] &= valid
				valid = 0xffff
			}
		}
	}
	return nil
}

// Bytes is struct seccomp_data as a little-endian kernel lays it out in
// memory, which is what BPF_LD|BPF_W|BPF_ABS reads from.
func (d SeccompData) Bytes() [SeccompDataSize]byte {
	var b [SeccompDataSize]byte
	binary.LittleEndian.PutUint32(b[OffsetNr:], uint32(d.Nr))
	binary.LittleEndian.PutUint32(b[OffsetArch:], d.Arch)
	binary.LittleEndian.PutUint64(b[OffsetInstructionPointer:], d.InstructionPointer)
	for i, a := range d.Args {
		binary.LittleEndian.PutUint64(b[OffsetArgs+8*i:], a)
	}
	return b
}

// Run executes a seccomp program on d as the kernel does and returns the
// filter's return value and how many instructions it executed, the RET
// included. A program Check refuses is not run: the kernel would never have
// attached it.
func Run(insns []Instruction, d SeccompData) (ret uint32, executed int, err error) {
	if err := Check(insns); err != nil {
		return 0, 0, err
	}
	return run(insns, d)
}

// run is Run on a program Check has accepted.
func run(insns []Instruction, d SeccompData) (ret uint32, executed int, err error) {
	data := d.Bytes()
	// The kernel zeroes A and X before a classic program runs; scratch
	// memory is not cleared, but Check proved it is never read unset.
	var a, x uint32
	var mem [bpfMemWords]uint32
	for pc := 0; pc < len(insns); pc++ {
		in := insns[pc]
		executed++
		switch in.Code {
		case opLdAbsW:
			a = binary.LittleEndian.Uint32(data[in.K : in.K+4])
		case opLdLen:
			a = SeccompDataSize
		case opLdxLen:
			x = SeccompDataSize
		case opLdImm:
			a = in.K
		case opLdxImm:
			x = in.K
		case opLdMem:
			a = mem[in.K]
		case opLdxMem:
			x = mem[in.K]
		case opSt:
			mem[in.K] = a
		case opStx:
			mem[in.K] = x
		case opTax:
			x = a
		case opTxa:
			a = x
		case opRetK:
			return in.K, executed, nil
		case opRetA:
			return a, executed, nil
		case opJa:
			pc += int(in.K)
		case opDivX:
			if x == 0 {
				// The kernel's translation of classic DIV X ends
				// the program with 0 (KILL_THREAD) rather than trap.
				return 0, executed, nil
			}
			a /= x
		default:
			operand := in.K
			if in.Code&srcMask == bpfX {
				operand = x
			}
			switch in.Code & classMask {
			case bpfALU:
				a = alu(in.Code&opMask, a, operand)
			case bpfJMP:
				if jumpTaken(in.Code&opMask, a, operand) {
					pc += int(in.Jt)
				} else {
					pc += int(in.Jf)
				}
			default:
				return 0, executed, badInsn(pc, "opcode 0x%02x passed the check but cannot be run", in.Code)
			}
		}
	}
	return 0, executed, &ProgramError{Index: -1, Reason: "execution ran past the last instruction"}
}

func alu(op uint16, a, v uint32) uint32 {
	switch op {
	case bpfADD:
		return a + v
	case bpfSUB:
		return a - v
	case bpfMUL:
		return a * v
	case bpfDIV:
		return a / v // divisor is a constant Check proved non-zero
	case bpfOR:
		return a | v
	case bpfAND:
		return a & v
	case bpfXOR:
		return a ^ v
	case bpfLSH:
		// Shifts by X keep only the low five bits, as the kernel's
		// interpreter and the x86 and arm64 JITs do; Go would give 0.
		return a << (v & 31)
	case bpfRSH:
		return a >> (v & 31)
	default: // bpfNEG, the only other ALU op Check lets through
		return -a
	}
}

func jumpTaken(op uint16, a, v uint32) bool {
	switch op {
	case bpfJEQ:
		return a == v
	case bpfJGT:
		return a > v
	case bpfJGE:
		return a >= v
	default: // bpfJSET
		return a&v != 0
	}
}
