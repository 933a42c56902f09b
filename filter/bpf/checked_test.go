package bpf

import (
	"errors"
	"testing"
)

func TestCheckedRunsLikeRun(t *testing.T) {
	c, err := NewChecked(archFilter)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []SeccompData{testData, {Nr: 0, Arch: AuditArchX86_64}, {Nr: 1, Arch: AuditArchI386}} {
		want, wantN, wantErr := Run(archFilter, d)
		got, gotN, gotErr := c.Run(d)
		if got != want || gotN != wantN || gotErr != wantErr {
			t.Errorf("%+v: Checked.Run = (%#x, %d, %v), Run = (%#x, %d, %v)", d, got, gotN, gotErr, want, wantN, wantErr)
		}
	}
}

func TestNewCheckedRefusesWhatCheckRefuses(t *testing.T) {
	bad := []Instruction{{Code: tLdAbs, K: 66}, {Code: tRetK}}
	_, err := NewChecked(bad)
	var pe *ProgramError
	if !errors.As(err, &pe) {
		t.Fatalf("NewChecked accepted a load past seccomp_data: %v", err)
	}
}
