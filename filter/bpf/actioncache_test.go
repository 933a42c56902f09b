package bpf

import "testing"

func TestConstantAllow(t *testing.T) {
	loadsArg := append([]Instruction{{Code: tLdAbs, K: 16}}, archFilter...)
	for _, tc := range []struct {
		name  string
		prog  []Instruction
		arch  uint32
		nr    int32
		allow bool
	}{
		{"allowed by nr and arch", archFilter, AuditArchX86_64, 0, true},
		{"errno is not cached", archFilter, AuditArchX86_64, 59, false},
		{"foreign arch killed", archFilter, AuditArchI386, 0, false},
		{"an argument load turns the cache off", loadsArg, AuditArchX86_64, 0, false},
		{"ret A is not modelled", []Instruction{{Code: tLdImm, K: RetAllow}, {Code: tRetA}}, AuditArchX86_64, 0, false},
		{"masking nr", []Instruction{{Code: tLdAbs, K: 0}, {Code: tAlu(0x50, false), K: 0xff}, {Code: tJeqK, Jt: 0, Jf: 1, K: 1}, {Code: tRetK, K: RetAllow}, {Code: tRetK, K: RetTrap}}, AuditArchX86_64, 0x101, true},
	} {
		if got := ConstantAllow(tc.prog, tc.arch, tc.nr); got != tc.allow {
			t.Errorf("%s: ConstantAllow = %v, want %v", tc.name, got, tc.allow)
		}
	}
}
