package conformance

import (
	"encoding/json"
	"fmt"
	"os"
)

// Comparison is a run held against a reference report: the committed
// tables in docs/conformance, produced in a VM-tier guest whose kernel has
// every ABI, so that they skip nothing. A host can lack an ABI (no IA-32
// emulation, no x32): the cases it skipped are left out of the comparison,
// and every case it ran must have the reference's verdict and outcome.
type Comparison struct {
	Compared    int          // cases both ran
	SkippedHere []Result     // cases this run skipped, with the reason
	Differences []Difference // cases that ran here and differ
}

// Difference is one case whose verdict or observed outcome is not the
// reference's.
type Difference struct {
	Case      string
	Here      string // "VERDICT observed", or why the case cannot be compared
	Reference string
}

func (d Difference) String() string {
	return fmt.Sprintf("%s: %s here; reference: %s", d.Case, d.Here, d.Reference)
}

// LoadReport reads a report written by WriteJSON.
func LoadReport(path string) (*Report, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("%s: not a conformance report: %w", path, err)
	}
	if len(r.Results) == 0 {
		return nil, fmt.Errorf("%s: the report has no results", path)
	}
	return &r, nil
}

// Compare holds r against ref. A reference that skipped a case, or lacks
// one that ran here, is itself a difference: it must be regenerated.
func Compare(r, ref *Report) Comparison {
	var c Comparison
	refs := make(map[string]Result, len(ref.Results))
	for _, res := range ref.Results {
		refs[res.Case] = res
	}
	for _, res := range r.Results {
		if res.Verdict == Skip {
			c.SkippedHere = append(c.SkippedHere, res)
			continue
		}
		want, ok := refs[res.Case]
		switch {
		case !ok:
			c.Differences = append(c.Differences, Difference{res.Case, outcomeOf(res), "missing (regenerate the reference: make conformance)"})
		case want.Verdict == Skip:
			c.Differences = append(c.Differences, Difference{res.Case, outcomeOf(res), "SKIP (" + want.Detail + "); a reference must run every case"})
		case want.Verdict != res.Verdict || want.Observed != res.Observed:
			c.Differences = append(c.Differences, Difference{res.Case, outcomeOf(res), outcomeOf(want)})
		default:
			c.Compared++
		}
	}
	return c
}

func outcomeOf(r Result) string { return fmt.Sprintf("%s %q", r.Verdict, r.Observed) }

// SummaryLine is "compared N cases with the reference: D differ (S skipped
// here)".
func (c Comparison) SummaryLine() string {
	return fmt.Sprintf("compared %d cases with the reference: %d differ (%d skipped here)",
		c.Compared+len(c.Differences), len(c.Differences), len(c.SkippedHere))
}
