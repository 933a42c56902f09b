package conformance

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
)

func sampleReport() *Report {
	r := &Report{Runtime: "/usr/sbin/runc", RuntimeVersion: "runc 1.1.5", Kernel: "6.1", Libseccomp: "2.5.4", Date: "2026-01-01T00:00:00Z"}
	r.add(Result{Case: "action/allow", Rule: "rule a", Expected: "allowed", Observed: "allowed", Verdict: Pass})
	r.add(Result{Case: "must/errnoret-with-allow", Rule: "rule | b", Expected: "refused", Observed: "allowed", Verdict: XFail, Deviation: "runc ignores it"})
	r.add(Result{Case: "flags/log", Rule: "rule c", Expected: "errno:EPERM +audit", Observed: "refused", Verdict: Fail, Detail: "flags not supported"})
	r.add(Result{Case: "arch/x32-unlisted", Rule: "rule d", Expected: "killed:SIGSYS", Verdict: Skip, Detail: "no x32"})
	r.add(Result{Case: "must/empty-names", Rule: "rule e", Expected: "refused", Observed: "refused", Verdict: XPass, Deviation: "stale"})
	return r
}

func TestSummary(t *testing.T) {
	r := sampleReport()
	if got := r.SummaryLine(); got != "1 passed, 2 failed, 1 skipped" {
		t.Errorf("summary %q: XPASS counts as failed, XFAIL as neither", got)
	}
	if !r.Failed() || r.Summary.XFailed != 1 {
		t.Errorf("Failed %v, XFailed %d", r.Failed(), r.Summary.XFailed)
	}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteTable(&b, "T"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| case | rule | expected | observed | verdict |",
		"| `must/errnoret-with-allow` | rule \\| b | refused | allowed | XFAIL |",
		"- `must/errnoret-with-allow` (XFAIL): runc ignores it",
		"- `flags/log`: flags not supported",
		"\n1 passed, 2 failed, 1 skipped\n1 expected failures (XFAIL)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Results) != 5 || back.Summary.Failed != 2 || back.Results[1].Verdict != XFail {
		t.Errorf("round trip: %+v", back.Summary)
	}
}

func TestWriteJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteJUnit(&b); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.String())
	}
	s := doc.Suites[0]
	if doc.Tests != 5 || doc.Failures != 2 || doc.Skipped != 1 || len(s.Cases) != 5 {
		t.Errorf("counts: tests %d failures %d skipped %d", doc.Tests, doc.Failures, doc.Skipped)
	}
	if c := s.Cases[1]; c.Failure != nil || c.Skipped != nil || !strings.Contains(c.SystemOut, "XFAIL") {
		t.Errorf("XFAIL must pass and say so: %+v", c)
	}
	if s.Cases[2].Failure == nil || s.Cases[4].Failure == nil || s.Cases[3].Skipped == nil {
		t.Error("FAIL and XPASS must be failures, SKIP skipped")
	}
}
