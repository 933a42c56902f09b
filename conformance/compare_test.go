package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	ref := &Report{Results: []Result{
		{Case: "arch/i386-listed", Verdict: Pass, Observed: "errno:EXDEV"},
		{Case: "action/errno", Verdict: Pass, Observed: "errno:EPERM"},
		{Case: "flags/log", Verdict: XFail, Observed: "refused"},
		{Case: "arch/x32-unlisted", Verdict: Skip, Detail: "no x32"},
	}}
	for _, tc := range []struct {
		name     string
		here     []Result
		compared int
		skipped  int
		differ   []string // substrings, one per difference
	}{
		{"same outcomes", []Result{
			{Case: "arch/i386-listed", Verdict: Pass, Observed: "errno:EXDEV"},
			{Case: "action/errno", Verdict: Pass, Observed: "errno:EPERM"},
			{Case: "flags/log", Verdict: XFail, Observed: "refused"}}, 3, 0, nil},
		{"a case skipped here is left out", []Result{
			{Case: "arch/i386-listed", Verdict: Skip, Detail: "kernel has no IA-32 emulation"},
			{Case: "action/errno", Verdict: Pass, Observed: "errno:EPERM"}}, 1, 1, nil},
		{"another outcome with the same verdict", []Result{
			{Case: "action/errno", Verdict: Pass, Observed: "errno:EACCES"}}, 1, 0, []string{`action/errno: PASS "errno:EACCES" here; reference: PASS "errno:EPERM"`}},
		{"another verdict", []Result{
			{Case: "flags/log", Verdict: Fail, Observed: "refused"}}, 1, 0, []string{"flags/log: FAIL"}},
		{"a case the reference lacks", []Result{
			{Case: "new/case", Verdict: Pass, Observed: "allowed"}}, 1, 0, []string{"new/case: PASS \"allowed\" here; reference: missing"}},
		{"a case the reference skipped", []Result{
			{Case: "arch/x32-unlisted", Verdict: Pass, Observed: "killed:SIGSYS"}}, 1, 0, []string{"arch/x32-unlisted: PASS \"killed:SIGSYS\" here; reference: SKIP (no x32); a reference must run every case"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Compare(&Report{Results: tc.here}, ref)
			if c.Compared+len(c.Differences) != tc.compared || len(c.SkippedHere) != tc.skipped || len(c.Differences) != len(tc.differ) {
				t.Fatalf("comparison %+v, want %d compared, %d skipped, %d differences", c, tc.compared, tc.skipped, len(tc.differ))
			}
			for i, want := range tc.differ {
				if got := c.Differences[i].String(); !strings.Contains(got, want) {
					t.Errorf("difference %q lacks %q", got, want)
				}
			}
		})
	}
}

func TestLoadReportRefusesNonReports(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"garbage.json": "{", "empty.json": `{"runtime":"runc","results":[]}`} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadReport(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want an error naming the file", name, err)
		}
	}
	if _, err := LoadReport(filepath.Join(dir, "absent.json")); err == nil {
		t.Error("a missing reference loaded")
	}
}
