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
	"=== RUN   TestKernelHostABIs\r\n" +
	"    kernel_abi_test.go:41: ABI-HOST x86_64=yes i386=yes x32=yes\r\n" +
	"--- PASS: TestKernelHostABIs (0.01s)\r\n" +
	"=== RUN   TestKernelABIMatrix\r\n" +
	"    kernel_abi32_test.go:118: ABI-RAN abi=i386\r\n" +
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
		"TestKernelHostABIs":            {Status: "PASS"},
		"TestKernelABIMatrix":           {Status: "PASS"},
		"TestKernelABIMatrix/naive-bpf": {Status: "PASS"},
		"TestKernelFlagSpecAllow":       {Status: "SKIP", Reason: "kernel 4.19 does not accept SECCOMP_FILTER_FLAG_SPEC_ALLOW"},
		"TestKernelTSync":               {Status: "FAIL"},
	}
	if !r.HostABIs["i386"] || !r.HostABIs["x32"] || !r.HostABIs["x86_64"] || r.ABIRan["i386"] != 1 || r.ABISkip["i386"] != 0 {
		t.Errorf("ABI lines: host %v, ran %v, skipped %v", r.HostABIs, r.ABIRan, r.ABISkip)
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
	passing := strings.Replace(sampleConsole, "rc=1", "rc=0", 1)
	// The host of this project: no IA-32 emulation, no x32; the naive
	// filter then has nothing to be bypassed through.
	hostWithoutIA32 := "SYSGATE-VM-BEGIN uptime=0\n" +
		"    kernel_abi_test.go:41: ABI-HOST x86_64=yes i386=no x32=no\n" +
		"    kernel_abi32_test.go:121: ABI-SKIP abi=i386: the int80 and i386-binary paths are left out (IA-32 emulation off)\n" +
		"    kernel_abi32_test.go:126: ABI-INFO x32=off: the kernel answers x32 calls with ENOSYS\n" +
		"    kernel_abi32_test.go:168: ABI-RESULT filter=naive-bpf path=x86_64 outcome=errno:EPERM bypass=false\n" +
		"    kernel_abi32_test.go:168: ABI-RESULT filter=naive-bpf path=x32 outcome=errno:ENOSYS bypass=false\n" +
		"--- PASS: TestKernelABIMatrix (0.31s)\n" +
		"    kernel_test.go:197: ABI-SKIP abi=i386\n" +
		"SYSGATE-VM-END rc=0 uptime=1\n"
	for _, tc := range []struct {
		name    string
		console string
		kernel  *Kernel
		x32Arg  bool
		want    string // substring of a failure; "" for a pass
	}{
		{"failed tests", sampleConsole, kernelWith(t, debianConfig), true, "kernel tests failed"},
		{"passing run", passing, kernelWith(t, debianConfig), true, ""},
		{"x32 should be off by default", strings.Replace(sampleConsole, "rc=1", "rc=0", 1), kernelWith(t, debianConfig), false, "should make it off"},
		{"x32 live although not built", strings.Replace(sampleConsole, "rc=1", "rc=0", 1), kernelWith(t, ""), true, "should make it off"},
		{"no boot", "[ 0.0] Kernel panic - not syncing\r\n", kernelWith(t, debianConfig), false, "did not boot"},
		{"hung tests", strings.Split(sampleConsole, "SYSGATE-VM-END")[0], kernelWith(t, debianConfig), false, "did not finish"},
		{"a sysgate filter bypassed", strings.Replace(strings.Replace(sampleConsole, "rc=1", "rc=0", 1),
			"sysgate-all-arches path=x32 outcome=errno:EPERM bypass=false", "sysgate-all-arches path=x32 outcome=allowed bypass=true", 1),
			kernelWith(t, debianConfig), true, "bypasses of sysgate-all-arches"},
		{"blind bypass tests", strings.Replace(strings.Replace(sampleConsole, "rc=1", "rc=0", 1), "bypass=true", "bypass=false", -1),
			kernelWith(t, debianConfig), true, "naive control filter was bypassed 0 times, want 3"},
		{"an i386 test skipped where IA-32 is live", strings.Replace(passing, "ABI-RAN abi=i386\r\n", "ABI-RAN abi=i386\r\n    k.go:1: ABI-SKIP abi=i386\r\n", 1),
			kernelWith(t, debianConfig), true, "1 i386 tests skipped"},
		{"no i386 test ran where IA-32 is live", strings.Replace(passing, "ABI-RAN abi=i386", "", 1),
			kernelWith(t, debianConfig), true, "no test ran an i386 case"},
		{"no ABI probe", strings.Replace(passing, "ABI-HOST", "", 1), kernelWith(t, debianConfig), true, "no ABI-HOST line"},
		{"a Debian kernel without IA-32", strings.Replace(passing, "i386=yes", "i386=no", 1), kernelWith(t, debianConfig), true, "found no IA-32 emulation"},
		{"a host without IA-32 that claims i386 runs", hostWithoutIA32 + "    k.go:1: ABI-RAN abi=i386\r\n", nil, false, "tests say they ran i386 cases"},
		{"a host without IA-32 skips its i386 tests", hostWithoutIA32, nil, false, ""},
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
