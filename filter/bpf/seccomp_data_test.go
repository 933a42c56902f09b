package bpf

import "testing"

// The kernel's order of precedence, most restrictive first
// (Documentation/userspace-api/seccomp_filter.rst); the data bits never
// change the order, and an unknown action counts as KILL_PROCESS.
func TestMoreRestrictive(t *testing.T) {
	order := []uint32{RetKillProcess, RetKillThread, RetTrap, RetErrno | 1, RetUserNotif, RetTrace | 7, RetLog, RetAllow}
	for i, a := range order {
		for j, b := range order {
			if got, want := MoreRestrictive(a, b), i < j; got != want {
				t.Errorf("MoreRestrictive(%s, %s) = %v, want %v", RetName(a), RetName(b), got, want)
			}
		}
	}
	for _, tc := range []struct {
		a, b uint32
		want bool
	}{
		{RetErrno | 13, RetErrno | 1, false}, // same action: neither wins by precedence
		{RetErrno | 1, RetErrno | 13, false},
		{0x12340000, RetKillThread, true}, // unknown action: KILL_PROCESS
		{RetAllow, 0x12340000, false},
	} {
		if got := MoreRestrictive(tc.a, tc.b); got != tc.want {
			t.Errorf("MoreRestrictive(%#x, %#x) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
