package vm

import (
	"strings"
	"testing"
)

const arm64Console = `[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x000f0510]
SYSGATE-ARM-BEGIN uptime=20.50
SYSGATE-ARM-INFO uname=6.12.117+deb13-arm64 machine=aarch64
SYSGATE-ARM-INFO aarch32=ok
SYSGATE-ARM-CHECK name=exec-mkdir-blocked want=errno:1 kernel=errno:1 interp=errno:1 result=ok
SYSGATE-ARM-MATRIX filter=naive aarch64_mkdirat=errno:1 arm_mkdir=ok arm_mkdirat=ok
SYSGATE-ARM-BYPASS filter=naive path=arm-mkdir
SYSGATE-ARM-BYPASS filter=naive path=arm-mkdirat
SYSGATE-ARM-MATRIX filter=sysgate-both aarch64_mkdirat=errno:1 arm_mkdir=errno:1 arm_mkdirat=errno:1
SYSGATE-ARM-BENCH syscall=getppid calls=100000 unfiltered_cs=50 sysgate_cs=60 runc_layout_cs=70
SYSGATE-ARM-END fails=0 uptime=120.25
`

// TestARM64RunJudges: a clean console passes; each way a run can prove
// nothing or show a hole fails it, with the reason.
func TestARM64RunJudges(t *testing.T) {
	parse := func(console string) *ARM64Run {
		r := &ARM64Run{Info: map[string]string{}, Matrix: map[string]map[string]string{}, Bypasses: map[string]int{}}
		r.parse([]byte(console))
		return r
	}
	r := parse(arm64Console)
	if p := r.Problems(); len(p) != 0 {
		t.Fatalf("clean run judged %v", p)
	}
	if r.InitAt != 20.5 || r.EndAt != 120.25 || r.Bypasses["naive"] != 2 || r.Matrix["naive"]["arm_mkdir"] != "ok" || len(r.Bench) != 1 || r.Info["aarch32"] != "ok" {
		t.Errorf("parsed %+v", r)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"a sysgate bypass", "SYSGATE-ARM-END", "SYSGATE-ARM-BYPASS filter=sysgate-both path=arm-mkdir\nSYSGATE-ARM-END", "1 bypasses of sysgate's filter sysgate-both"},
		{"a failed check", "result=ok", "result=FAIL", "check exec-mkdir-blocked"},
		{"no control bypass", "SYSGATE-ARM-BYPASS filter=naive", "x", "control was not bypassed"},
		{"no AArch32 entry", "aarch32=ok", "aarch32=none(rc=126)", "no AArch32 entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := parse(strings.ReplaceAll(arm64Console, tc.old, tc.new))
			if p := strings.Join(r.Problems(), "; "); !strings.Contains(p, tc.want) {
				t.Errorf("problems %q, want one saying %q", p, tc.want)
			}
		})
	}
}
