package bpf

import "testing"

func TestConstantResult(t *testing.T) {
	// Arguments are read only for nr 1: every other syscall is constant.
	argForOne := []Instruction{
		{Code: tLdAbs, K: 0},              // 0
		{Code: tJeqK, Jt: 0, Jf: 3, K: 1}, // 1
		{Code: tLdAbs, K: 16},             // 2
		{Code: tJeqK, Jt: 0, Jf: 1, K: 7}, // 3
		{Code: tRetK, K: RetErrno | 1},    // 4
		{Code: tRetK, K: RetAllow},        // 5
	}
	for _, tc := range []struct {
		name string
		prog []Instruction
		arch uint32
		nr   int32
		ret  uint32
		ok   bool
	}{
		{"allowed by nr and arch", archFilter, AuditArchX86_64, 0, RetAllow, true},
		{"errno is constant too", archFilter, AuditArchX86_64, 59, RetErrno | 1, true},
		{"foreign arch killed", archFilter, AuditArchI386, 0, RetKillProcess, true},
		{"the syscall that reads an argument", argForOne, AuditArchX86_64, 1, 0, false},
		{"a syscall that does not", argForOne, AuditArchX86_64, 2, RetAllow, true},
		{"the instruction pointer", []Instruction{{Code: tLdAbs, K: 8}, {Code: tRetK, K: RetAllow}}, AuditArchX86_64, 0, 0, false},
		{"ret A is not modelled", []Instruction{{Code: tLdImm, K: RetAllow}, {Code: tRetA}}, AuditArchX86_64, 0, 0, false},
	} {
		ret, ok := ConstantResult(tc.prog, tc.arch, tc.nr)
		if ret != tc.ret || ok != tc.ok {
			t.Errorf("%s: ConstantResult = (%#x, %v), want (%#x, %v)", tc.name, ret, ok, tc.ret, tc.ok)
		}
	}
}

// FuzzConstantResult: a constant result is what the interpreter returns
// whatever the arguments and instruction pointer are.
func FuzzConstantResult(f *testing.F) {
	for _, p := range fuzzSeedPrograms() {
		f.Add(Encode(p), int32(59), uint32(0xc000003e), uint64(0x401000), uint64(0), uint64(1<<32))
	}
	f.Add(Encode(archFilter), int32(0), uint32(AuditArchI386), uint64(0), uint64(7), uint64(0))
	f.Fuzz(func(t *testing.T, raw []byte, nr int32, arch uint32, ip, a0, a1 uint64) {
		raw = raw[:len(raw)-len(raw)%InstructionSize]
		insns, err := Decode(raw)
		if err != nil || Check(insns) != nil {
			return
		}
		want, ok := ConstantResult(insns, arch, nr)
		if !ok {
			return
		}
		got, _, err := Run(insns, SeccompData{Nr: nr, Arch: arch, InstructionPointer: ip, Args: [6]uint64{a0, a1, a0, a1, a0, a1}})
		if err != nil || got != want {
			t.Fatalf("ConstantResult said %#x, the interpreter gives %#x (%v)\n%s", want, got, err, Disassemble(insns))
		}
	})
}
