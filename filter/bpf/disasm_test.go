package bpf

import (
	"strings"
	"testing"
)

func TestDisassembleArchFilter(t *testing.T) {
	want := ` line  OP   JT   JF   K
=================================
 0000: 0x20 0x00 0x00 0x00000004   ld  $data[4]        ; arch
 0001: 0x15 0x01 0x00 0xc000003e   jeq 0xc000003e true:0003 false:0002
 0002: 0x06 0x00 0x00 0x80000000   ret SCMP_ACT_KILL_PROCESS
 0003: 0x20 0x00 0x00 0x00000000   ld  $data[0]        ; nr
 0004: 0x15 0x00 0x01 0x0000003b   jeq 0x3b true:0005 false:0006
 0005: 0x06 0x00 0x00 0x00050001   ret SCMP_ACT_ERRNO(1)
 0006: 0x06 0x00 0x00 0x7fff0000   ret SCMP_ACT_ALLOW
7 instructions
`
	if got := Disassemble(archFilter); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestDisassembleEmpty(t *testing.T) {
	got := Disassemble(nil)
	if !strings.HasSuffix(got, "=\n0 instructions\n") {
		t.Fatalf("got %q", got)
	}
}

func TestDisassembleMnemonics(t *testing.T) {
	tests := []struct {
		pc   int
		in   Instruction
		want string
	}{
		{0, Instruction{Code: tLdAbs, K: 8}, "ld  $data[8]        ; instruction_pointer low"},
		{0, Instruction{Code: tLdAbs, K: 12}, "ld  $data[12]       ; instruction_pointer high"},
		{0, Instruction{Code: tLdAbs, K: 16}, "ld  $data[16]       ; args[0] low"},
		{0, Instruction{Code: tLdAbs, K: 36}, "ld  $data[36]       ; args[2] high"},
		{0, Instruction{Code: tLdAbs, K: 60}, "ld  $data[60]       ; args[5] high"},
		{0, Instruction{Code: tLdAbs, K: 66}, "ld  $data[66]       ; past the end of seccomp_data"},
		{0, Instruction{Code: tLdAbs, K: 2}, "ld  $data[2]        ; unaligned"},
		{0, Instruction{Code: 0x28, K: 12}, "ldh $data[12]"},
		{0, Instruction{Code: 0x30, K: 3}, "ldb $data[3]"},
		{0, Instruction{Code: 0x40, K: 4}, "ld  $data[X+4]"},
		{0, Instruction{Code: 0xb1, K: 14}, "ldx 4*($data[14]&0xf)"},
		{0, Instruction{Code: tLdLen}, "ld  $len"},
		{0, Instruction{Code: tLdxLen}, "ldx $len"},
		{0, Instruction{Code: tLdImm, K: 0x40000000}, "ld  #0x40000000"},
		{0, Instruction{Code: tLdxImm, K: 7}, "ldx #0x7"},
		{0, Instruction{Code: tLdMem, K: 3}, "ld  M[3]"},
		{0, Instruction{Code: tLdxMem, K: 15}, "ldx M[15]"},
		{0, Instruction{Code: tSt, K: 0}, "st  M[0]"},
		{0, Instruction{Code: tStx, K: 9}, "stx M[9]"},
		{0, Instruction{Code: tTax}, "tax"},
		{0, Instruction{Code: tTxa}, "txa"},
		{0, Instruction{Code: tNeg}, "neg"},
		{0, Instruction{Code: tAlu(0x50, false), K: 0xff}, "and 0xff"},
		{0, Instruction{Code: tAlu(0x00, true), K: 0xff}, "add X"},
		{0, Instruction{Code: tAlu(0x90, false), K: 3}, "mod 0x3"},
		{0, Instruction{Code: tAlu(0xa0, true)}, "xor X"},
		{0, Instruction{Code: tAlu(0x70, false), K: 31}, "rsh 0x1f"},
		{10, Instruction{Code: tJa, K: 5}, "jmp 0016"},
		{10, Instruction{Code: tJgeK, Jt: 0, Jf: 3, K: 0x40000000}, "jge 0x40000000 true:0011 false:0014"},
		{10, Instruction{Code: tJsetX, Jt: 255, Jf: 1}, "jset X true:0266 false:0012"},
		{0, Instruction{Code: tRetA}, "ret A"},
		{0, Instruction{Code: tRetK, K: 0x7ff00007}, "ret SCMP_ACT_TRACE(7)"},
		{0, Instruction{Code: tRetK, K: 0x7fc00000}, "ret SCMP_ACT_NOTIFY"},
		{0, Instruction{Code: 0x0e}, "??? 0x000e"},
		{0, Instruction{Code: 0x8c}, "??? 0x008c"},
		{0, Instruction{Code: 0x55}, "??? 0x0055"},
		{0, Instruction{Code: 0x1234}, "??? 0x1234"},
	}
	for _, tt := range tests {
		prog := make([]Instruction, tt.pc+1)
		prog[tt.pc] = tt.in
		lines := strings.Split(Disassemble(prog), "\n")
		line := lines[2+tt.pc]
		_, got, ok := strings.Cut(line, "   ")
		if !ok || got != tt.want {
			t.Errorf("%#04x k=%#x at %d: got line %q, want mnemonic %q", tt.in.Code, tt.in.K, tt.pc, line, tt.want)
		}
	}
}
