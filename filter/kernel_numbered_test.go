package filter_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/sysgate/sysgate/filter"
)

// kernelAtLeast reports whether the running kernel's release is at least
// major.minor. Debian's kernels, the VM tier's, do not backport syscalls,
// so for them the release says which syscalls exist.
func kernelAtLeast(t *testing.T, major, minor int) bool {
	t.Helper()
	release := filter.KernelRelease()
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		t.Fatalf("kernel release %q is not MAJOR.MINOR...", release)
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		t.Fatalf("kernel release %q is not MAJOR.MINOR...", release)
	}
	return ma > major || (ma == major && mi >= minor)
}

// TestKernelNewestSyscallProbe: the probe's hand-made program answers as
// its contract says, and on every kernel of the VM tier it finds the
// syscalls that kernel's release has: listmount and statmount from 6.8,
// mseal from 6.10, none of them on 5.10 and 6.1.
func TestKernelNewestSyscallProbe(t *testing.T) {
	for _, tc := range []struct {
		high, floor int
		want        string
	}{
		{39, 39, "exit:1"},     // getpid answers: the first number tried
		{1010, 1000, "exit:0"}, // no kernel has these
	} {
		got, err := filter.RunProbeProgram(filter.NewestSyscallProgram(tc.high, tc.floor))
		if err != nil || got != tc.want {
			t.Errorf("probe program %d..%d: %q (%v), want %q", tc.high, tc.floor, got, err, tc.want)
		}
	}
	k := filter.RunningKernelSyscalls()
	t.Logf("kernel %s: %s", filter.KernelRelease(), k)
	if !k.Known {
		t.Fatalf("the probe could not tell: %s", k.Reason)
	}
	for _, c := range []struct {
		name         string
		major, minor int
	}{{"statmount", 6, 8}, {"listmount", 6, 8}, {"mseal", 6, 10}} {
		if has := !k.Lacks(c.name); has != kernelAtLeast(t, c.major, c.minor) {
			t.Errorf("kernel %s: probe says it has %s: %v; Linux has it since %d.%d", filter.KernelRelease(), c.name, has, c.major, c.minor)
		}
	}
}

// TestKernelNewerThanLibseccomp: the denylist names listmount and
// statmount, which libseccomp 2.5.4 cannot name. Through every ABI they get
// EACCES, as mkdir does, on kernels that have them (6.8 and later); on
// kernels that lack them the filter answers ENOSYS, as the kernel would. An
// allowlist that allows mseal lets it through where the kernel has it
// (mseal(0, 0, 0) succeeds) instead of answering ENOSYS as a syscall newer
// than the profile.
func TestKernelNewerThanLibseccomp(t *testing.T) {
	newWant := "errno:ENOSYS"
	if kernelAtLeast(t, 6, 8) {
		newWant = "errno:EACCES"
	}
	msealWant := "errno:ENOSYS"
	if kernelAtLeast(t, 6, 10) {
		msealWant = "allowed"
	}
	t.Logf("kernel %s: listmount and statmount %s, mseal %s", filter.KernelRelease(), newWant, msealWant)
	deny := `{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
		"syscalls":[{"names":["listmount","statmount","mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}`
	var calls []call
	for _, abi := range []string{"", "i386", "x32"} {
		calls = append(calls,
			call{abi: abi, name: "listmount", args: []string{"0", "0", "0", "0"}, want: newWant},
			call{abi: abi, name: "statmount", args: []string{"0", "0", "0", "0"}, want: newWant},
			call{abi: abi, name: "mkdir", args: []string{"path", "493"}, want: "errno:EACCES"})
	}
	calls = append(calls, call{name: "getppid", want: "allowed"})
	t.Run("denylist", func(t *testing.T) { runCases(t, deny, calls) })

	allow := fmt.Sprintf(`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":[%s,"mseal"],"action":"SCMP_ACT_ALLOW"}]}`, baseSyscalls)
	t.Run("allowlist", func(t *testing.T) {
		runCases(t, allow, []call{
			{name: "mseal", args: []string{"0", "0", "0"}, want: msealWant},
			{name: "mkdir", args: []string{"path", "493"}, want: "errno:EPERM"},
			{nr: 1000, want: "errno:ENOSYS"},
		})
	})
}
