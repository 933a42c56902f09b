package vm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A guest's console as the runner sees it: kernel noise, CRLF line ends,
// nested subtests and a skip with its reason.
const sampleConsole = "[    0.000000] Linux version 6.12.117+deb13-amd64\r\n" +
	"SYSGATE-VM-BEGIN uptime=2.91\r\n" +
	"SYSGATE-VM-INFO uname=6.12.117+deb13-amd64\r\n" +
	"SYSGATE-VM-INFO cmdline=console=ttyS0 panic=-1 quiet syscall.x32=y\r\n" +
	"=== RUN   TestKernelABIMatrix\r\n" +
	"    kernel_abi32_test.go:168: ABI-INFO x32=live: x32 calls reach the syscall table\r\n" +
	"    kernel_abi32_test.go:203: ABI-RESULT filter=naive-bpf path=int80 outcome=allowed bypass=true\r\n" +
	"    kernel_abi32_test.go:203: ABI-RESULT filter=naive-bpf path=x32 outcome=allowed bypass=true\r\n" +
	"    kernel_abi32_test.go:203: ABI-RESULT filter=naive-bpf path=i386-binary outcome=allowed bypass=true\r\n" +
	"    kernel_abi32_test.go:203: ABI-RESULT filter=sysgate-all-arches path=x32 outcome=errno:EPERM bypass=false\r\n" +
	"--- PASS: TestKernelABIMatrix (0.31s)\r\n" +
	"    --- PASS: TestKernelABIMatrix/naive-bpf (0.02s)\r\n" +
	"        --- PASS: TestKernelABIMatrix/naive-bpf/deeper (0.00s)\r\n" +
	"--- SKIP: TestKernelFlagSpecAllow (0.00s)\r\n" +
	"    kernel_flags_test.go:40: kernel 4.19 does not accept SECCOMP_FILTER_FLAG_SPEC_ALLOW\r\n" +
	"--- FAIL: TestKernelTSync (0.02s)\r\n" +
	"FAIL\r\n" +
	"SYSGATE-VM-END rc=1 uptime=8.04\r\n"

func parseSample(t *testing.T, console string) *Run {
	r := &Run{Name: "6.12 x32=y", X32Arg: true}
	clock := time.Unix(0, 0)
	r.Parse(strings.NewReader(console), clock, func() time.Time { clock = clock.Add(time.Second); return clock })
	return r
}

func TestParseConsole(t *testing.T) {
	r := parseSample(t, sampleConsole)
	if !r.Begun || !r.Finished || r.RC != 1 || r.Uname != "6.12.117+deb13-amd64" || r.X32 != "live" {
		t.Fatalf("run = %+v", r)
	}
	// The clock is read at BEGIN (1s) and at END (2s).
	if r.BootTime != time.Second || r.TestTime != time.Second {
		t.Errorf("boot time %v, test time %v, want 1s each", r.BootTime, r.TestTime)
	}
	want := map[string]TestResult{
		"TestKernelABIMatrix":           {Status: "PASS"},
		"TestKernelABIMatrix/naive-bpf": {Status: "PASS"},
		"TestKernelFlagSpecAllow":       {Status: "SKIP", Reason: "kernel 4.19 does not accept SECCOMP_FILTER_FLAG_SPEC_ALLOW"},
		"TestKernelTSync":               {Status: "FAIL"},
	}
	if len(r.Tests) != len(want) {
		t.Errorf("tests: %+v", r.Tests)
	}
	for name, w := range want {
		if r.Tests[name] != w {
			t.Errorf("%s: %+v, want %+v", name, r.Tests[name], w)
		}
	}
	if r.Bypasses("naive-bpf") != 3 || r.Bypasses("sysgate-all-arches") != 0 {
		t.Errorf("ABI cells: %+v", r.ABI)
	}
}

func TestEvaluate(t *testing.T) {
	kernelWith := func(t *testing.T, config string) *Kernel {
		path := filepath.Join(t.TempDir(), "config")
		os.WriteFile(path, []byte("#\n"+config), 0o644)
		return &Kernel{Config: path}
	}
	debianConfig := "CONFIG_X86_X32_ABI=y\nCONFIG_X86_X32_DISABLED=y\n"
	for _, tc := range []struct {
		name    string
		console string
		kernel  *Kernel
		x32Arg  bool
		want    string // substring of a failure; "" for a pass
	}{
		{"failed tests", sampleConsole, kernelWith(t, debianConfig), true, "kernel tests failed"},
		{"passing run", strings.Replace(sampleConsole, "rc=1", "rc=0", 1), kernelWith(t, debianConfig), true, ""},
		{"x32 should be off by default", strings.Replace(sampleConsole, "rc=1", "rc=0", 1), kernelWith(t, debianConfig), false, "should make it off"},
		{"x32 live although not built", strings.Replace(sampleConsole, "rc=1", "rc=0", 1), kernelWith(t, ""), true, "should make it off"},
		{"no boot", "[ 0.0] Kernel panic - not syncing\r\n", kernelWith(t, debianConfig), false, "did not boot"},
		{"hung tests", strings.Split(sampleConsole, "SYSGATE-VM-END")[0], kernelWith(t, debianConfig), false, "did not finish"},
		{"a sysgate filter bypassed", strings.Replace(strings.Replace(sampleConsole, "rc=1", "rc=0", 1),
			"sysgate-all-arches path=x32 outcome=errno:EPERM bypass=false", "sysgate-all-arches path=x32 outcome=allowed bypass=true", 1),
			kernelWith(t, debianConfig), true, "bypasses of sysgate-all-arches"},
		{"blind bypass tests", strings.Replace(strings.Replace(sampleConsole, "rc=1", "rc=0", 1), "bypass=true", "bypass=false", -1),
			kernelWith(t, debianConfig), true, "naive control filter was not bypassed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := parseSample(t, tc.console)
			r.Kernel, r.X32Arg = tc.kernel, tc.x32Arg
			ok := r.Evaluate()
			got := strings.Join(r.Failures, "; ")
			if tc.want == "" && !ok {
				t.Fatalf("failures: %s", got)
			}
			if tc.want != "" && !strings.Contains(got, tc.want) {
				t.Fatalf("failures %q do not mention %q", got, tc.want)
			}
		})
	}
}
