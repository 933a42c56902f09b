package filter_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sysgate/sysgate/conformance/probe"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/integration/probetest"
)

// requireABI skips a test on a kernel that lacks abi, and only there. It
// logs "ABI-RAN abi=A" or "ABI-SKIP abi=A" so that the VM tier can count,
// on every kernel, the tests that ran through the ABI, and fail a run that
// skipped one on a kernel that has it.
func requireABI(t *testing.T, abi string) {
	t.Helper()
	st := filter.HostABI(abi)
	if !st.Live {
		t.Logf("ABI-SKIP abi=%s", abi)
		t.Skipf("this kernel offers no %s ABI (%s); the VM tier's kernels have it and run this test", abi, st.Reason)
	}
	t.Logf("ABI-RAN abi=%s", abi)
}

// TestKernelHostABIs checks filter.HostABIs, whose probes are hand-made
// machine code, against the C probe and a real i386 binary: both must agree
// on every kernel, with the ABI on (VM guests) and off (hosts without IA-32
// emulation or x32). It logs the "ABI-HOST" line the VM tier reads.
func TestKernelHostABIs(t *testing.T) {
	abis := filter.HostABIs()
	var line []string
	for _, s := range abis {
		line = append(line, s.ABI+"="+map[bool]string{true: "yes", false: "no"}[s.Live])
	}
	t.Logf("ABI-HOST %s", strings.Join(line, " "))
	t.Logf("abi: %s", filter.FormatABIs(abis))
	if !filter.HostABI(filter.ABIX86_64).Live {
		t.Fatalf("x86_64 not live on the kernel this test runs on: %v", abis)
	}
	for _, s := range abis {
		if strings.HasPrefix(s.Reason, "unknown") {
			t.Errorf("%s: the probe could not tell: %s", s.ABI, s.Reason)
		}
	}
	probePath := probetest.BuildForTest(t)
	ctx := context.Background()

	i386 := filter.HostABI(filter.ABII386)
	r, err := probe.Run(ctx, probePath, nil, probe.ABII386, 64) // getppid
	if err != nil {
		t.Fatal(err)
	}
	if want := map[bool]string{true: probe.OutcomeAllowed, false: "killed:SIGSEGV"}[i386.Live]; r.Outcome() != want {
		t.Errorf("i386 %v, but int $0x80 getppid from the C probe: %s, want %s", i386, r.Outcome(), want)
	}
	dir := t.TempDir()
	err = exec.Command(probetest.Build32ForTest(t), filepath.Join(dir, "made")).Run()
	var pathErr *os.PathError
	switch {
	case i386.Live && err != nil:
		t.Errorf("i386 %v, but the i386 binary mkdir32 failed: %v", i386, err)
	case !i386.Live && !(errors.As(err, &pathErr) && errors.Is(pathErr.Err, syscall.ENOEXEC)):
		t.Errorf("i386 %v, but the exec of the i386 binary mkdir32 gave %v, want ENOEXEC", i386, err)
	}

	x32 := filter.HostABI(filter.ABIX32)
	r, err = probe.Run(ctx, probePath, nil, probe.ABIX32, 110) // getppid
	if err != nil {
		t.Fatal(err)
	}
	if want := map[bool]string{true: probe.OutcomeAllowed, false: "errno:ENOSYS"}[x32.Live]; r.Outcome() != want {
		t.Errorf("x32 %v, but x32 getppid from the C probe: %s, want %s", x32, r.Outcome(), want)
	}
}
