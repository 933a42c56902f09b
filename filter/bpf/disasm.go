package bpf

import (
	"fmt"
	"strings"
)

// Disassemble renders a program one instruction a line, in the layout of
// libseccomp's scmp_bpf_disasm: index, raw fields, then a mnemonic with jump
// targets as absolute instruction indexes so a reader can follow them without
// arithmetic. It never fails: what it cannot name it prints as "???", since
// its main use is looking at programs that Check refused.
func Disassemble(insns []Instruction) string {
	var b strings.Builder
	b.WriteString(" line  OP   JT   JF   K\n")
	b.WriteString("=================================\n")
	for pc, in := range insns {
		fmt.Fprintf(&b, " %04d: 0x%02x 0x%02x 0x%02x 0x%08x   %s\n", pc, in.Code, in.Jt, in.Jf, in.K, mnemonic(pc, in))
	}
	fmt.Fprintf(&b, "%d instructions\n", len(insns))
	return b.String()
}

var aluNames = map[uint16]string{
	bpfADD: "add", bpfSUB: "sub", bpfMUL: "mul", bpfDIV: "div", bpfOR: "or",
	bpfAND: "and", bpfLSH: "lsh", bpfRSH: "rsh", bpfMOD: "mod", bpfXOR: "xor",
}

var jumpNames = map[uint16]string{
	bpfJEQ: "jeq", bpfJGT: "jgt", bpfJGE: "jge", bpfJSET: "jset",
}

func mnemonic(pc int, in Instruction) string {
	switch in.Code {
	case opLdAbsW:
		return withComment(fmt.Sprintf("ld  $data[%d]", in.K), seccompField(in.K))
	case bpfLD | bpfH | bpfABS:
		return fmt.Sprintf("ldh $data[%d]", in.K)
	case bpfLD | bpfB | bpfABS:
		return fmt.Sprintf("ldb $data[%d]", in.K)
	case bpfLD | bpfW | bpfIND:
		return fmt.Sprintf("ld  $data[X+%d]", in.K)
	case bpfLD | bpfH | bpfIND:
		return fmt.Sprintf("ldh $data[X+%d]", in.K)
	case bpfLD | bpfB | bpfIND:
		return fmt.Sprintf("ldb $data[X+%d]", in.K)
	case bpfLDX | bpfB | bpfMSH:
		return fmt.Sprintf("ldx 4*($data[%d]&0xf)", in.K)
	case opLdLen:
		return "ld  $len"
	case opLdxLen:
		return "ldx $len"
	case opLdImm:
		return fmt.Sprintf("ld  #0x%x", in.K)
	case opLdxImm:
		return fmt.Sprintf("ldx #0x%x", in.K)
	case opLdMem:
		return fmt.Sprintf("ld  M[%d]", in.K)
	case opLdxMem:
		return fmt.Sprintf("ldx M[%d]", in.K)
	case opSt:
		return fmt.Sprintf("st  M[%d]", in.K)
	case opStx:
		return fmt.Sprintf("stx M[%d]", in.K)
	case opTax:
		return "tax"
	case opTxa:
		return "txa"
	case opNeg:
		return "neg"
	case opRetA:
		return "ret A"
	case opRetK:
		return "ret " + RetName(in.K)
	case opJa:
		return fmt.Sprintf("jmp %04d", uint64(pc)+1+uint64(in.K))
	}
	if in.Code&^(opMask|srcMask|classMask) == 0 {
		operand := fmt.Sprintf("0x%x", in.K)
		if in.Code&srcMask == bpfX {
			operand = "X"
		}
		switch in.Code & classMask {
		case bpfALU:
			if name, ok := aluNames[in.Code&opMask]; ok {
				return name + " " + operand
			}
		case bpfJMP:
			if name, ok := jumpNames[in.Code&opMask]; ok {
				return fmt.Sprintf("%s %s true:%04d false:%04d", name, operand, pc+1+int(in.Jt), pc+1+int(in.Jf))
			}
		}
	}
	return fmt.Sprintf("??? 0x%04x", in.Code)
}

// seccompField names the part of struct seccomp_data a word load reads; the
// low/high halves assume a little-endian machine, like the rest of sysgate.
func seccompField(off uint32) string {
	if off >= SeccompDataSize {
		return "past the end of seccomp_data"
	}
	if off%4 != 0 {
		return "unaligned"
	}
	half := "low"
	if off%8 == 4 {
		half = "high"
	}
	switch {
	case off == OffsetNr:
		return "nr"
	case off == OffsetArch:
		return "arch"
	case off < OffsetArgs:
		return "instruction_pointer " + half
	default:
		return fmt.Sprintf("args[%d] %s", (off-OffsetArgs)/8, half)
	}
}

func withComment(text, comment string) string {
	return fmt.Sprintf("%-20s; %s", text, comment)
}
