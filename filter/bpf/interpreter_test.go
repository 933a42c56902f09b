package bpf

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// Hand-assembled opcodes, spelled as numbers so a typo in the package's
// constants cannot make the tests agree with the code.
const (
	tLdAbs  = 0x20
	tLdLen  = 0x80
	tLdImm  = 0x00
	tLdMem  = 0x60
	tLdxImm = 0x01
	tLdxMem = 0x61
	tLdxLen = 0x81
	tSt     = 0x02
	tStx    = 0x03
	tTax    = 0x07
	tTxa    = 0x87
	tRetK   = 0x06
	tRetA   = 0x16
	tJa     = 0x05
	tJeqK   = 0x15
	tJeqX   = 0x1d
	tJgtK   = 0x25
	tJgtX   = 0x2d
	tJgeK   = 0x35
	tJgeX   = 0x3d
	tJsetK  = 0x45
	tJsetX  = 0x4d
	tNeg    = 0x84
)

// tAlu is the ALU opcode for op (0x00 add ... 0xa0 xor) with K or X operand.
func tAlu(op uint16, useX bool) uint16 {
	if useX {
		return 0x04 | op | 0x08
	}
	return 0x04 | op
}

var testData = SeccompData{
	Nr:                 59,
	Arch:               0xc000003e,
	InstructionPointer: 0x00007fff_12345678,
	Args: [6]uint64{
		0x00000000_00000001,
		0xa1a1a1a1_b2b2b2b2,
		0x00000002_00000003,
		0xffffffff_fffffffe,
		0x40404040_50505050,
		0x60606060_70707070,
	},
}

func TestRunLoadsEverySeccompDataWord(t *testing.T) {
	// Words as the kernel reads them on a little-endian machine.
	want := map[uint32]uint32{
		0: 59, 4: 0xc000003e,
		8: 0x12345678, 12: 0x00007fff,
		16: 0x00000001, 20: 0x00000000,
		24: 0xb2b2b2b2, 28: 0xa1a1a1a1,
		32: 0x00000003, 36: 0x00000002,
		40: 0xfffffffe, 44: 0xffffffff,
		48: 0x50505050, 52: 0x40404040,
		56: 0x70707070, 60: 0x60606060,
	}
	if len(want) != SeccompDataSize/4 {
		t.Fatalf("table covers %d words, want %d", len(want), SeccompDataSize/4)
	}
	for off, w := range want {
		prog := []Instruction{{Code: tLdAbs, K: off}, {Code: tRetA}}
		ret, executed, err := Run(prog, testData)
		if err != nil || ret != w || executed != 2 {
			t.Errorf("ld $data[%d]: got (%#x, %d, %v), want (%#x, 2, nil)", off, ret, executed, err, w)
		}
	}
}

func TestRunNegativeSyscallNumber(t *testing.T) {
	d := testData
	d.Nr = -1
	ret, _, err := Run([]Instruction{{Code: tLdAbs, K: 0}, {Code: tRetA}}, d)
	if err != nil || ret != 0xffffffff {
		t.Fatalf("got (%#x, %v), want 0xffffffff", ret, err)
	}
}

func TestSeccompDataBytes(t *testing.T) {
	b := testData.Bytes()
	want := []byte{
		59, 0, 0, 0, 0x3e, 0, 0, 0xc0,
		0x78, 0x56, 0x34, 0x12, 0xff, 0x7f, 0, 0,
		1, 0, 0, 0, 0, 0, 0, 0,
	}
	if !bytes.Equal(b[:len(want)], want) {
		t.Fatalf("Bytes()[:24] = % x, want % x", b[:len(want)], want)
	}
	if b[63] != 0x60 || b[56] != 0x70 {
		t.Fatalf("args[5] serialised as % x", b[56:])
	}
}

// archFilter is what libseccomp emits at the top of every x86_64 filter:
// kill foreign arches, then errno(1) for execve, allow the rest.
var archFilter = []Instruction{
	{Code: tLdAbs, K: 4},                       // 0
	{Code: tJeqK, Jt: 1, Jf: 0, K: 0xc000003e}, // 1
	{Code: tRetK, K: 0x80000000},               // 2
	{Code: tLdAbs, K: 0},                       // 3
	{Code: tJeqK, Jt: 0, Jf: 1, K: 59},         // 4
	{Code: tRetK, K: 0x00050001},               // 5
	{Code: tRetK, K: 0x7fff0000},               // 6
}

func TestRunArchFilter(t *testing.T) {
	tests := []struct {
		name     string
		nr       int32
		arch     uint32
		ret      uint32
		executed int
	}{
		{"execve denied", 59, 0xc000003e, 0x00050001, 5},
		{"read allowed", 0, 0xc000003e, 0x7fff0000, 5},
		{"i386 killed", 59, 0x40000003, 0x80000000, 3},
	}
	for _, tt := range tests {
		d := SeccompData{Nr: tt.nr, Arch: tt.arch}
		ret, executed, err := Run(archFilter, d)
		if err != nil || ret != tt.ret || executed != tt.executed {
			t.Errorf("%s: got (%#x, %d, %v), want (%#x, %d, nil)", tt.name, ret, executed, err, tt.ret, tt.executed)
		}
	}
}

func TestRunALU(t *testing.T) {
	const (
		add, sub, mul, div = 0x00, 0x10, 0x20, 0x30
		or, and, lsh, rsh  = 0x40, 0x50, 0x60, 0x70
		xor                = 0xa0
	)
	tests := []struct {
		name string
		op   uint16
		a, v uint32
		want uint32
	}{
		{"add", add, 7, 5, 12},
		{"add wraps", add, 0xffffffff, 2, 1},
		{"sub", sub, 12, 5, 7},
		{"sub wraps", sub, 5, 7, 0xfffffffe},
		{"mul", mul, 6, 7, 42},
		{"mul truncates to 32 bits", mul, 0x10000, 0x10001, 0x10000},
		{"div", div, 100, 7, 14},
		{"div is unsigned", div, 0x80000000, 2, 0x40000000},
		{"or", or, 0xf0, 0x0f, 0xff},
		{"and", and, 0xff00ff00, 0x0ff00ff0, 0x0f000f00},
		{"xor", xor, 0xff00ff00, 0x0ff00ff0, 0xf0f0f0f0},
		{"lsh", lsh, 0x80000001, 4, 0x00000010},
		{"rsh is logical", rsh, 0x80000000, 31, 1},
	}
	for _, tt := range tests {
		for _, useX := range []bool{false, true} {
			op := Instruction{Code: tAlu(tt.op, useX), K: tt.v}
			if useX {
				op.K = 0xdead // must be ignored
			}
			prog := []Instruction{
				{Code: tLdImm, K: tt.a},
				{Code: tLdxImm, K: tt.v},
				op,
				{Code: tRetA},
			}
			ret, executed, err := Run(prog, testData)
			if err != nil || ret != tt.want || executed != 4 {
				t.Errorf("%s (X=%v): got (%#x, %d, %v), want (%#x, 4, nil)", tt.name, useX, ret, executed, err, tt.want)
			}
		}
	}
}

func TestRunNeg(t *testing.T) {
	for a, want := range map[uint32]uint32{1: 0xffffffff, 0: 0, 0x80000000: 0x80000000, 0xfffffffe: 2} {
		ret, _, err := Run([]Instruction{{Code: tLdImm, K: a}, {Code: tNeg}, {Code: tRetA}}, testData)
		if err != nil || ret != want {
			t.Errorf("neg %#x: got (%#x, %v), want %#x", a, ret, err, want)
		}
	}
}

func TestRunShiftByXUsesLowFiveBits(t *testing.T) {
	for _, tt := range []struct {
		op      uint16
		a, x    uint32
		want    uint32
		comment string
	}{
		{0x60, 3, 33, 6, "33&31 = 1"},
		{0x60, 3, 32, 3, "32&31 = 0"},
		{0x70, 0x80000000, 63, 1, "63&31 = 31"},
	} {
		prog := []Instruction{
			{Code: tLdImm, K: tt.a},
			{Code: tLdxImm, K: tt.x},
			{Code: tAlu(tt.op, true)},
			{Code: tRetA},
		}
		ret, _, err := Run(prog, testData)
		if err != nil || ret != tt.want {
			t.Errorf("%#x op %#x by X=%d (%s): got (%#x, %v), want %#x", tt.a, tt.op, tt.x, tt.comment, ret, err, tt.want)
		}
	}
}

func TestRunDivisionByZeroXReturnsZero(t *testing.T) {
	prog := []Instruction{
		{Code: tLdImm, K: 100},
		{Code: tLdxImm, K: 0},
		{Code: tAlu(0x30, true)},
		{Code: tRetK, K: 0x7fff0000},
	}
	ret, executed, err := Run(prog, testData)
	if err != nil || ret != 0 || executed != 3 {
		t.Fatalf("got (%#x, %d, %v), want (0, 3, nil)", ret, executed, err)
	}
}

func TestRunJumps(t *testing.T) {
	const yes, no = 0x7fff0000, 0x00050001
	tests := []struct {
		name string
		code uint16
		a, v uint32
		want uint32
	}{
		{"jeq true", tJeqK, 5, 5, yes},
		{"jeq false", tJeqK, 5, 6, no},
		{"jgt true", tJgtK, 6, 5, yes},
		{"jgt equal is false", tJgtK, 5, 5, no},
		{"jgt is unsigned", tJgtK, 0x80000000, 1, yes},
		{"jge equal", tJgeK, 5, 5, yes},
		{"jge false", tJgeK, 4, 5, no},
		{"jge is unsigned", tJgeK, 1, 0xffffffff, no},
		{"jset true", tJsetK, 0b1010, 0b0010, yes},
		{"jset false", tJsetK, 0b1010, 0b0101, no},
		{"jeq X true", tJeqX, 9, 9, yes},
		{"jeq X false", tJeqX, 9, 8, no},
		{"jgt X", tJgtX, 0xffffffff, 0xfffffffe, yes},
		{"jge X", tJgeX, 3, 4, no},
		{"jset X", tJsetX, 0x80000000, 0x80000000, yes},
		{"jset X false", tJsetX, 0x7fffffff, 0x80000000, no},
	}
	for _, tt := range tests {
		cond := Instruction{Code: tt.code, Jt: 1, Jf: 0, K: tt.v}
		if tt.code&0x08 != 0 {
			cond.K = ^tt.v // must be ignored
		}
		prog := []Instruction{
			{Code: tLdImm, K: tt.a},
			{Code: tLdxImm, K: tt.v},
			cond,
			{Code: tRetK, K: no},
			{Code: tRetK, K: yes},
		}
		ret, executed, err := Run(prog, testData)
		if err != nil || ret != tt.want || executed != 4 {
			t.Errorf("%s: got (%#x, %d, %v), want (%#x, 4, nil)", tt.name, ret, executed, err, tt.want)
		}
	}
}

func TestRunJaAndExecutedCount(t *testing.T) {
	prog := []Instruction{
		{Code: tJa, K: 2},            // 0 -> 3
		{Code: tRetK, K: 1},          // 1
		{Code: tRetK, K: 2},          // 2
		{Code: tLdImm, K: 7},         // 3
		{Code: tJeqK, Jt: 2, K: 7},   // 4 -> 7
		{Code: tRetK, K: 3},          // 5
		{Code: tRetK, K: 4},          // 6
		{Code: tJa, K: 0},            // 7 -> 8
		{Code: tRetK, K: 0x7ffc0000}, // 8
	}
	ret, executed, err := Run(prog, testData)
	if err != nil || ret != 0x7ffc0000 || executed != 5 {
		t.Fatalf("got (%#x, %d, %v), want (0x7ffc0000, 5, nil)", ret, executed, err)
	}
}

func TestRunScratchMemoryAndRegisters(t *testing.T) {
	prog := []Instruction{
		{Code: tLdImm, K: 11},    // A = 11
		{Code: tSt, K: 3},        // M[3] = 11
		{Code: tLdxImm, K: 22},   // X = 22
		{Code: tStx, K: 15},      // M[15] = 22
		{Code: tLdImm, K: 0},     // A = 0
		{Code: tLdxImm, K: 0},    // X = 0
		{Code: tLdxMem, K: 3},    // X = 11
		{Code: tLdMem, K: 15},    // A = 22
		{Code: tAlu(0x10, true)}, // A = 22 - 11 = 11
		{Code: tTax},             // X = 11
		{Code: tLdImm, K: 100},   // A = 100
		{Code: tTxa},             // A = 11
		{Code: tAlu(0x00, true)}, // A = 22
		{Code: tRetA},
	}
	ret, executed, err := Run(prog, testData)
	if err != nil || ret != 22 || executed != len(prog) {
		t.Fatalf("got (%d, %d, %v), want (22, %d, nil)", ret, executed, err, len(prog))
	}
}

func TestRunLenLoadsSeccompDataSize(t *testing.T) {
	prog := []Instruction{
		{Code: tLdxLen},
		{Code: tLdLen},
		{Code: tAlu(0x00, true)},
		{Code: tRetA},
	}
	ret, _, err := Run(prog, testData)
	if err != nil || ret != 128 {
		t.Fatalf("got (%d, %v), want 128", ret, err)
	}
}

func TestRunRegistersStartAtZero(t *testing.T) {
	prog := []Instruction{{Code: tAlu(0x00, true)}, {Code: tAlu(0x00, false), K: 0}, {Code: tRetA}}
	ret, _, err := Run(prog, testData)
	if err != nil || ret != 0 {
		t.Fatalf("got (%d, %v), want 0", ret, err)
	}
}

func repeatRet(n int) []Instruction {
	p := make([]Instruction, n)
	for i := range p {
		p[i] = Instruction{Code: tRetK, K: 0x7fff0000}
	}
	return p
}

func TestCheck(t *testing.T) {
	ret := Instruction{Code: tRetK, K: 0x7fff0000}
	tests := []struct {
		name  string
		prog  []Instruction
		index int // -2: valid
		words string
	}{
		{"single ret", []Instruction{ret}, -2, ""},
		{"ret A", []Instruction{{Code: tRetA}}, -2, ""},
		{"arch filter", archFilter, -2, ""},
		{"max length", repeatRet(MaxInstructions), -2, ""},
		{"last word of seccomp_data", []Instruction{{Code: tLdAbs, K: 60}, ret}, -2, ""},
		{"ja to last", []Instruction{{Code: tJa, K: 1}, ret, ret}, -2, ""},
		{"jeq to last", []Instruction{{Code: tJeqK, Jt: 1, Jf: 0}, ret, ret}, -2, ""},
		{"xor allowed", []Instruction{{Code: tAlu(0xa0, false), K: 1}, ret}, -2, ""},
		{"shift by 31", []Instruction{{Code: tAlu(0x60, false), K: 31}, ret}, -2, ""},
		{"M[15]", []Instruction{{Code: tSt, K: 15}, {Code: tLdMem, K: 15}, ret}, -2, ""},
		{"store on both paths", []Instruction{
			{Code: tJeqK, Jt: 0, Jf: 2},
			{Code: tSt, K: 1},
			{Code: tJa, K: 1},
			{Code: tStx, K: 1},
			{Code: tLdMem, K: 1},
			{Code: tRetA},
		}, -2, ""},

		{"empty", nil, -1, "empty"},
		{"too long", repeatRet(MaxInstructions + 1), -1, "4097"},
		{"ja past end", []Instruction{{Code: tJa, K: 1}, ret}, 0, "jumps to 2"},
		{"ja huge", []Instruction{{Code: tJa, K: 0xffffffff}, ret}, 0, "past the last"},
		{"jt past end", []Instruction{ret, {Code: tJeqK, Jt: 1}, ret}, 1, "true branch"},
		{"jf past end", []Instruction{{Code: tJgtX, Jf: 255}, ret}, 0, "false branch"},
		{"load offset 64", []Instruction{{Code: tLdAbs, K: 64}, ret}, 0, "past the 64-byte"},
		{"load offset 66", []Instruction{{Code: tLdAbs, K: 66}, ret}, 0, "offset 66"},
		{"unaligned load", []Instruction{ret, {Code: tLdAbs, K: 2}, ret}, 1, "aligned"},
		{"missing final ret", []Instruction{{Code: tLdAbs, K: 0}}, 0, "not a RET"},
		{"ret then load", []Instruction{ret, {Code: tLdImm}}, 1, "not a RET"},
		{"unknown opcode", []Instruction{{Code: 0xff}, ret}, 0, "unknown opcode 0xff"},
		{"opcode above 8 bits", []Instruction{{Code: 0x106}, ret}, 0, "unknown opcode"},
		{"ret X", []Instruction{{Code: 0x0e}}, 0, "unknown opcode"},
		{"neg X", []Instruction{{Code: 0x8c}, ret}, 0, "unknown opcode"},
		{"alu op 0xb0", []Instruction{{Code: 0xb4}, ret}, 0, "unknown opcode"},
		{"ja with X bit", []Instruction{{Code: 0x0d}, ret}, 0, "unknown opcode"},
		{"jump op 0x50", []Instruction{{Code: 0x55}, ret}, 0, "unknown opcode"},
		{"ldh abs", []Instruction{{Code: 0x28}, ret}, 0, "seccomp does not allow"},
		{"ldb abs", []Instruction{{Code: 0x30}, ret}, 0, "seccomp does not allow"},
		{"ld ind", []Instruction{{Code: 0x40}, ret}, 0, "seccomp does not allow"},
		{"ldx msh", []Instruction{{Code: 0xb1}, ret}, 0, "seccomp does not allow"},
		{"mod K", []Instruction{{Code: 0x94, K: 3}, ret}, 0, "mod"},
		{"mod X", []Instruction{ret, {Code: 0x9c}, ret}, 1, "mod"},
		{"div by constant 0", []Instruction{{Code: 0x34, K: 0}, ret}, 0, "division by constant 0"},
		{"lsh by 32", []Instruction{{Code: 0x64, K: 32}, ret}, 0, "shift by 32"},
		{"rsh by 40", []Instruction{{Code: 0x74, K: 40}, ret}, 0, "shift by 40"},
		{"st M[16]", []Instruction{{Code: tSt, K: 16}, ret}, 0, "scratch memory index 16"},
		{"stx M[16]", []Instruction{{Code: tStx, K: 16}, ret}, 0, "scratch memory index 16"},
		{"ld M[16]", []Instruction{{Code: tLdMem, K: 16}, ret}, 0, "scratch memory index 16"},
		{"ldx M[99]", []Instruction{{Code: tLdxMem, K: 99}, ret}, 0, "scratch memory index 99"},
		{"read before store", []Instruction{{Code: tLdMem, K: 0}, ret}, 0, "M[0]"},
		{"read of another slot", []Instruction{{Code: tSt, K: 1}, {Code: tLdMem, K: 2}, ret}, 1, "M[2]"},
		{"store on one path only", []Instruction{
			{Code: tJeqK, Jt: 0, Jf: 1},
			{Code: tSt, K: 4},
			{Code: tLdxMem, K: 4},
			ret,
		}, 2, "M[4]"},
		{"store skipped by ja", []Instruction{
			{Code: tJa, K: 1},
			{Code: tSt, K: 2},
			{Code: tLdMem, K: 2},
			ret,
		}, 2, "M[2]"},
	}
	for _, tt := range tests {
		err := Check(tt.prog)
		if tt.index == -2 {
			if err != nil {
				t.Errorf("%s: unexpected error %v", tt.name, err)
			}
			continue
		}
		var pe *ProgramError
		if !errors.As(err, &pe) {
			t.Errorf("%s: got %v, want a *ProgramError at %d", tt.name, err, tt.index)
			continue
		}
		if pe.Index != tt.index || !strings.Contains(err.Error(), tt.words) {
			t.Errorf("%s: got index %d %q, want index %d mentioning %q", tt.name, pe.Index, err, tt.index, tt.words)
		}
		// Run must refuse exactly what the check refuses.
		if ret, executed, rerr := Run(tt.prog, testData); rerr == nil || ret != 0 || executed != 0 {
			t.Errorf("%s: Run got (%#x, %d, %v), want an error and nothing executed", tt.name, ret, executed, rerr)
		}
	}
}

func TestProgramErrorMessage(t *testing.T) {
	err := Check([]Instruction{{Code: tRetK}, {Code: tLdAbs, K: 66}, {Code: tRetK}})
	want := "invalid seccomp program: instruction 1: load from offset 66, past the 64-byte seccomp_data"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
	if got := Check(nil).Error(); got != "invalid seccomp program: empty program" {
		t.Fatalf("got %q", got)
	}
}

func fuzzSeedPrograms() [][]Instruction {
	return [][]Instruction{
		archFilter,
		{{Code: tLdImm, K: 100}, {Code: tLdxImm}, {Code: tAlu(0x30, true)}, {Code: tRetA}},
		{{Code: tSt, K: 1}, {Code: tLdMem, K: 1}, {Code: tJsetK, Jt: 1, K: 1}, {Code: tRetA}, {Code: tRetK, K: 5}},
		{{Code: tJa, K: 1}, {Code: tRetK}, {Code: tLdAbs, K: 44}, {Code: tRetA}},
		{{Code: tLdAbs, K: 66}, {Code: tRetK}},
	}
}

func FuzzRun(f *testing.F) {
	for _, p := range fuzzSeedPrograms() {
		f.Add(Encode(p), int32(59), uint32(0xc000003e), uint64(0x401000), uint64(0), uint64(1), uint64(1<<32), uint64(0), uint64(0), uint64(0))
	}
	f.Fuzz(func(t *testing.T, raw []byte, nr int32, arch uint32, ip, a0, a1, a2, a3, a4, a5 uint64) {
		// Drop a ragged tail so most inputs decode to a program.
		raw = raw[:len(raw)-len(raw)%InstructionSize]
		insns, err := Decode(raw)
		if err != nil {
			t.Fatalf("decoding %d bytes: %v", len(raw), err)
		}
		d := SeccompData{Nr: nr, Arch: arch, InstructionPointer: ip, Args: [6]uint64{a0, a1, a2, a3, a4, a5}}
		checkErr := Check(insns)
		ret, executed, runErr := Run(insns, d)
		if checkErr != nil {
			if runErr == nil || executed != 0 {
				t.Fatalf("Check refused (%v) but Run gave (%#x, %d, %v)", checkErr, ret, executed, runErr)
			}
		} else {
			if runErr != nil {
				t.Fatalf("Check accepted but Run failed: %v\n%s", runErr, Disassemble(insns))
			}
			if executed < 1 || executed > len(insns) {
				t.Fatalf("executed %d instructions of %d", executed, len(insns))
			}
			ret2, executed2, _ := Run(insns, d)
			if ret2 != ret || executed2 != executed {
				t.Fatalf("Run is not deterministic: (%#x, %d) then (%#x, %d)", ret, executed, ret2, executed2)
			}
		}
		if lines := strings.Count(Disassemble(insns), "\n"); lines != len(insns)+3 {
			t.Fatalf("Disassemble printed %d lines for %d instructions", lines, len(insns))
		}
	})
}

func FuzzDecode(f *testing.F) {
	for _, p := range fuzzSeedPrograms() {
		f.Add(Encode(p))
	}
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, raw []byte) {
		insns, err := Decode(raw)
		if len(raw)%InstructionSize != 0 {
			if err == nil {
				t.Fatalf("decoded %d bytes without error", len(raw))
			}
			return
		}
		if err != nil {
			t.Fatalf("decoding %d bytes: %v", len(raw), err)
		}
		if len(insns) != len(raw)/InstructionSize {
			t.Fatalf("%d instructions from %d bytes", len(insns), len(raw))
		}
		if back := Encode(insns); !bytes.Equal(back, raw) {
			t.Fatalf("round trip changed the bytes:\n% x\n% x", raw, back)
		}
	})
}
