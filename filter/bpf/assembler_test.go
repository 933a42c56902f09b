package bpf

import (
	"slices"
	"strings"
	"testing"
)

func TestAssembler(t *testing.T) {
	var a Assembler
	a.Emit(LoadAbsolute(OffsetArch))
	a.JumpIf(OpJumpEqual, AuditArchX86_64, "", "kill")
	a.Emit(LoadAbsolute(OffsetNr))
	a.JumpIf(OpJumpGreater, 450, "enosys", "allow")
	a.Label("kill")
	a.Emit(Return(RetKillProcess))
	a.Label("enosys")
	a.Emit(Return(RetErrno | 38))
	a.JumpAlways("allow")
	a.Label("allow")
	a.Emit(Return(RetAllow))
	got, err := a.Assemble()
	if err != nil {
		t.Fatal(err)
	}
	want := []Instruction{
		{Code: 0x20, K: 4},
		{Code: 0x15, Jt: 0, Jf: 2, K: 0xc000003e},
		{Code: 0x20, K: 0},
		{Code: 0x25, Jt: 1, Jf: 3, K: 450},
		{Code: 0x06, K: 0x80000000},
		{Code: 0x06, K: 0x00050026},
		{Code: 0x05, K: 0},
		{Code: 0x06, K: 0x7fff0000},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got:\n%s\nwant:\n%s", Disassemble(got), Disassemble(want))
	}
	if err := Check(got); err != nil {
		t.Fatal(err)
	}
}

func TestAssemblerRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(a *Assembler)
		words string
	}{
		{"undefined label", func(a *Assembler) { a.JumpAlways("nowhere") }, `undefined label "nowhere"`},
		{"backward jump", func(a *Assembler) {
			a.Label("top")
			a.Emit(Return(RetAllow))
			a.JumpIf(OpJumpSet, 1, "top", "")
		}, `backward jump to "top"`},
		{"conditional jump past 255", func(a *Assembler) {
			a.JumpIf(OpJumpEqual, 0, "far", "")
			a.Emit(make([]Instruction, 256)...)
			a.Label("far")
		}, "jump too long at instruction 0"},
	} {
		var a Assembler
		tc.build(&a)
		if _, err := a.Assemble(); err == nil || !strings.Contains(err.Error(), tc.words) {
			t.Errorf("%s: got %v, want an error mentioning %q", tc.name, err, tc.words)
		}
	}
}
