package conformance_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sysgate/sysgate/conformance"
	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/integration/probetest"
	"github.com/sysgate/sysgate/spec"
)

// The suite against Debian's runc, alone and behind sysgate-runc, with the
// committed expected-failures files: what `make conformance` runs for these
// two targets. A case that fails and is not listed, or is listed and
// passes, fails the test. (crun's two targets need the private-namespace
// wrapper and run in make conformance.)

func requireRuntimeTest(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the conformance suite creates ~80 containers")
	}
	if os.Geteuid() != 0 {
		t.Skip("the conformance suite creates containers and needs root")
	}
	if _, err := os.Stat(bundle.BusyboxPath); err != nil {
		t.Skip("busybox-static is not installed (make deps installs it)")
	}
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Skip("runc is not installed (make deps installs it)")
	}
	return runc
}

// runcVersion is "1.1.5" from "runc version 1.1.5+ds1": the
// expected-failures files are per version.
func runcVersion(t *testing.T, runc string) string {
	out, err := exec.Command(runc, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	v := strings.TrimPrefix(first, "runc version ")
	v, _, _ = strings.Cut(v, "+")
	v, _, _ = strings.Cut(v, "~")
	return v
}

func runSuite(t *testing.T, rt conformance.Runtime, xfailFile string) {
	t.Helper()
	deviations, err := conformance.LoadDeviations(filepath.Join("expected-failures", xfailFile))
	if os.IsNotExist(err) {
		t.Skipf("no expected-failures file %s for this runtime version: run `make conformance` and record its deviations", xfailFile)
	}
	if err != nil {
		t.Fatal(err)
	}
	r := &conformance.Runner{Runtime: rt, Probe: probetest.BuildForTest(t), Deviations: deviations}
	probetest.HoldKernelLog(t) // the SCMP_ACT_LOG cases read the kernel log
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	rep, err := r.Run(ctx, conformance.Cases())
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range rep.Results {
		switch {
		case res.Verdict.Failed():
			t.Errorf("%s %s: expected %s, observed %s; %s%s", res.Verdict, res.Case, res.Expected, res.Observed, res.Detail, res.Deviation)
		case res.Verdict == conformance.XFail:
			t.Logf("XFAIL %s: observed %s (%s)", res.Case, res.Observed, res.Deviation)
		}
	}
	t.Logf("%s (%d expected failures) in %s", rep.SummaryLine(), rep.Summary.XFailed, rep.Duration.Round(time.Millisecond))
}

func TestConformanceRunc(t *testing.T) {
	runc := requireRuntimeTest(t)
	runSuite(t, conformance.Runtime{Path: runc}, "runc-"+runcVersion(t, runc)+".txt")
}

func TestConformanceSysgateRuncWithRunc(t *testing.T) {
	runc := requireRuntimeTest(t)
	dir := t.TempDir()
	wrapper := filepath.Join(dir, "sysgate-runc")
	if out, err := exec.Command("go", "build", "-o", wrapper, "github.com/sysgate/sysgate/cmd/sysgate-runc").CombinedOutput(); err != nil {
		t.Fatalf("go build sysgate-runc: %v\n%s", err, out)
	}
	// As in run-targets.sh: unconfined node default, so a bundle without
	// linux.seccomp stays unconfined as the spec says.
	policy := filepath.Join(dir, "config.toml")
	body := fmt.Sprintf("runtime = %q\nruntime_kind = \"runc\"\ndefault = \"unconfined\"\ncache_dir = %q\n", runc, filepath.Join(dir, "cache"))
	if err := os.WriteFile(policy, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	rt := conformance.Runtime{Path: wrapper, Env: []string{spec.PolicyPathEnv + "=" + policy}}
	runSuite(t, rt, "sysgate-runc-runc-"+runcVersion(t, runc)+".txt")
}
