package main

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysgate/sysgate/integration/probetest"
)

// TestConformanceUsage: command-line mistakes exit 2 before anything runs.
func TestConformanceUsage(t *testing.T) {
	for _, args := range [][]string{
		{"conformance"}, // no --runtime
		{"conformance", "--runtime", "runc", "--output", "yaml"},
		{"conformance", "--runtime", "runc", "--case", "no-such-group/*"},
		{"conformance", "--runtime", "runc", "extra"},
	} {
		if code, _, stderr := runCLI(args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d; stderr %q", args, code, exitUsage, stderr)
		}
	}
	if code, _, stderr := runCLI("conformance", "--runtime", "/nonexistent/runtime"); code != exitFailure || !strings.Contains(stderr, "/nonexistent/runtime") {
		t.Errorf("missing runtime: exit %d, stderr %q", code, stderr)
	}
}

// TestConformanceList: --list prints the selected cases with their
// expectations and rules, and runs nothing.
func TestConformanceList(t *testing.T) {
	code, stdout, _ := runCLI("conformance", "--list", "--case", "action/errno-*")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "action/errno-default-eperm") || !strings.Contains(lines[0], "errno:EPERM") || !strings.Contains(lines[0], "runtime-spec") {
		t.Errorf("--list:\n%s", stdout)
	}
}

// TestConformanceAgainstRunc runs two cases through Debian's runc as JUnit:
// one runc passes, one it fails (errnoRet with ALLOW) which, listed in an
// expected-failures file, does not fail the run.
func TestConformanceAgainstRunc(t *testing.T) {
	if testing.Short() || os.Geteuid() != 0 {
		t.Skip("creates containers: needs root and no -short")
	}
	probetest.HoldKernelLog(t) // the SCMP_ACT_LOG cases read the kernel log
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Skip("runc is not installed (make deps installs it)")
	}
	xfail := writeFile(t, "xfail.txt", "must/errnoret-with-allow  runc ignores errnoRet on SCMP_ACT_ALLOW\n")
	args := []string{"conformance", "--runtime", runc, "--case", "action/errno-errnoret", "--case", "must/errnoret-with-allow", "--output", "junit"}
	code, stdout, stderr := runCLI(args...)
	if code != exitFailure || !strings.Contains(stderr, "1 passed, 1 failed, 0 skipped") {
		t.Errorf("without the list: exit %d, stderr %q", code, stderr)
	}
	code, stdout, stderr = runCLI(append(args, "--expect-failures", xfail)...)
	if code != 0 || !strings.Contains(stderr, "1 passed, 0 failed, 0 skipped") {
		t.Fatalf("with the list: exit %d, stderr %q\n%s", code, stderr, stdout)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal([]byte(stdout), &doc); err != nil || doc.Tests != 2 || doc.Failures != 0 {
		t.Errorf("JUnit: %+v %v\n%s", doc, err, stdout)
	}
}

// TestConformanceReference: --json writes the run's report, and --reference
// fails the run when a case this machine ran has another outcome than the
// reference says, naming the case, while an equal reference passes.
func TestConformanceReference(t *testing.T) {
	if testing.Short() || os.Geteuid() != 0 {
		t.Skip("creates containers: needs root and no -short")
	}
	probetest.HoldKernelLog(t) // the SCMP_ACT_LOG cases read the kernel log
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Skip("runc is not installed (make deps installs it)")
	}
	dir := t.TempDir()
	own := filepath.Join(dir, "own.json")
	args := []string{"conformance", "--runtime", runc, "--case", "action/errno-errnoret", "--output", "json"}
	if code, _, stderr := runCLI(append(args, "--json", own)...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	code, _, stderr := runCLI(append(args, "--reference", own)...)
	if code != 0 || !strings.Contains(stderr, "compared 1 cases with the reference: 0 differ") {
		t.Fatalf("against its own report: exit %d, stderr %q", code, stderr)
	}
	raw, err := os.ReadFile(own)
	if err != nil {
		t.Fatal(err)
	}
	other := writeFile(t, "other.json", strings.Replace(string(raw), `"observed": "errno:EXDEV"`, `"observed": "allowed"`, 1))
	if other == own || !strings.Contains(string(raw), `"observed": "errno:EXDEV"`) {
		t.Fatalf("the report does not hold the expected outcome:\n%s", raw)
	}
	code, _, stderr = runCLI(append(args, "--reference", other)...)
	if code != exitFailure || !strings.Contains(stderr, `action/errno-errnoret: PASS "errno:EXDEV" here; reference: PASS "allowed"`) {
		t.Errorf("against a differing reference: exit %d, stderr %q", code, stderr)
	}
}
