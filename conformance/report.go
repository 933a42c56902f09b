package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// Verdict is a case's result.
type Verdict string

const (
	Pass  Verdict = "PASS"
	Fail  Verdict = "FAIL"
	XFail Verdict = "XFAIL" // failed, and listed as the runtime's known deviation
	XPass Verdict = "XPASS" // listed as a deviation but passed: the list is stale; a failure
	Skip  Verdict = "SKIP"  // this machine cannot show the outcome
)

// Failed reports whether the verdict fails the run.
func (v Verdict) Failed() bool { return v == Fail || v == XPass }

// Result is one case's row.
type Result struct {
	Case     string  `json:"case"`
	Rule     string  `json:"rule"`
	Summary  string  `json:"summary"`
	Expected string  `json:"expected"`
	Observed string  `json:"observed"`
	Verdict  Verdict `json:"verdict"`
	// Detail is the runtime's error message for a refusal, or why the case
	// was skipped or could not run.
	Detail string `json:"detail,omitempty"`
	// Deviation is the expected-failures file's reason, when it lists the
	// case.
	Deviation string        `json:"deviation,omitempty"`
	Duration  time.Duration `json:"durationNs"`
}

// Summary counts verdicts. XPASS counts as failed.
type Summary struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	XFailed int `json:"expectedFailures"`
	Total   int `json:"total"`
}

// Report is a whole run.
type Report struct {
	Suite          string        `json:"suite,omitempty"`
	Runtime        string        `json:"runtime"`
	RuntimeArgs    []string      `json:"runtimeArgs,omitempty"`
	RuntimeVersion string        `json:"runtimeVersion"`
	Kernel         string        `json:"kernel"`
	Libseccomp     string        `json:"libseccomp"`
	Date           string        `json:"date"`
	Duration       time.Duration `json:"durationNs"`
	Summary        Summary       `json:"summary"`
	Results        []Result      `json:"results"`
}

func (r *Report) add(res Result) {
	r.Results = append(r.Results, res)
	r.Summary.Total++
	switch res.Verdict {
	case Pass:
		r.Summary.Passed++
	case Skip:
		r.Summary.Skipped++
	case XFail:
		r.Summary.XFailed++
	default:
		r.Summary.Failed++
	}
}

// Failed reports whether any case failed (XPASS included).
func (r *Report) Failed() bool { return r.Summary.Failed > 0 }

// SummaryLine is "N passed, N failed, N skipped".
func (r *Report) SummaryLine() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", r.Summary.Passed, r.Summary.Failed, r.Summary.Skipped)
}

// WriteJSON writes the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report as Markdown: a header with the versions, the
// table (case, rule, expected, observed, verdict), the reasons of expected
// failures, the runtimes' messages, and the summary line. It is also what
// docs/conformance/ commits, so it holds nothing that changes between
// identical runs except the date and the time taken.
func (r *Report) WriteTable(w io.Writer, title string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", title)
	fmt.Fprintf(&b, "- runtime: `%s`", r.Runtime)
	if len(r.RuntimeArgs) > 0 {
		fmt.Fprintf(&b, " with `%s`", strings.Join(r.RuntimeArgs, " "))
	}
	fmt.Fprintf(&b, "\n- runtime version: %s\n- kernel: %s; libseccomp (sysgate): %s", r.RuntimeVersion, r.Kernel, r.Libseccomp)
	if r.Suite != "" {
		fmt.Fprintf(&b, "; sysgate: %s", r.Suite)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "- date: %s; took %.1fs\n\n", r.Date, r.Duration.Seconds())
	b.WriteString("| case | rule | expected | observed | verdict |\n|---|---|---|---|---|\n")
	for _, res := range r.Results {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell("`"+res.Case+"`"), cell(res.Rule), cell(res.Expected), cell(res.Observed), res.Verdict)
	}
	var notes, xfails []string
	for _, res := range r.Results {
		if res.Deviation != "" {
			xfails = append(xfails, fmt.Sprintf("- `%s` (%s): %s", res.Case, res.Verdict, res.Deviation))
		}
		if res.Detail != "" {
			notes = append(notes, fmt.Sprintf("- `%s`: %s", res.Case, oneLine(res.Detail)))
		}
	}
	if len(xfails) > 0 {
		fmt.Fprintf(&b, "\nKnown deviations of this runtime (XFAIL: the runtime's, not sysgate's; XPASS: listed but passed):\n\n%s\n", strings.Join(xfails, "\n"))
	}
	if len(notes) > 0 {
		fmt.Fprintf(&b, "\nMessages (refusals, skips):\n\n%s\n", strings.Join(notes, "\n"))
	}
	fmt.Fprintf(&b, "\n%s\n", r.SummaryLine())
	if r.Summary.XFailed > 0 {
		fmt.Fprintf(&b, "%d expected failures (XFAIL)\n", r.Summary.XFailed)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func cell(s string) string {
	return strings.ReplaceAll(oneLine(s), "|", `\|`)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// JUnit XML, as CI systems read it (the Jenkins/Surefire schema). XFAIL is
// a passing testcase whose properties and output say it is an expected
// failure: JUnit has no such state, and "skipped" would hide it.
type junitSuites struct {
	XMLName  xml.Name   `xml:"testsuites"`
	Name     string     `xml:"name,attr"`
	Tests    int        `xml:"tests,attr"`
	Failures int        `xml:"failures,attr"`
	Skipped  int        `xml:"skipped,attr"`
	Time     string     `xml:"time,attr"`
	Suites   []junitSet `xml:"testsuite"`
}

type junitSet struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Class      string          `xml:"classname,attr"`
	Name       string          `xml:"name,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Failure    *junitMessage   `xml:"failure,omitempty"`
	Skipped    *junitMessage   `xml:"skipped,omitempty"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes the report as JUnit XML.
func (r *Report) WriteJUnit(w io.Writer) error {
	set := junitSet{
		Name: "sysgate conformance: " + r.Runtime, Tests: r.Summary.Total, Failures: r.Summary.Failed,
		Skipped: r.Summary.Skipped, Time: seconds(r.Duration), Timestamp: r.Date,
		Properties: []junitProperty{
			{"runtime", r.Runtime}, {"runtime.args", strings.Join(r.RuntimeArgs, " ")},
			{"runtime.version", r.RuntimeVersion}, {"kernel", r.Kernel}, {"libseccomp", r.Libseccomp},
			{"expectedFailures", fmt.Sprint(r.Summary.XFailed)}, {"sysgate", r.Suite},
		},
	}
	for _, res := range r.Results {
		group, _, _ := strings.Cut(res.Case, "/")
		jc := junitCase{Class: "conformance." + group, Name: res.Case, Time: seconds(res.Duration),
			Properties: []junitProperty{{"rule", res.Rule}, {"verdict", string(res.Verdict)}}}
		msg := fmt.Sprintf("expected %s, observed %s", res.Expected, res.Observed)
		switch res.Verdict {
		case Fail:
			jc.Failure = &junitMessage{Message: msg, Type: "FAIL", Text: res.Detail}
		case XPass:
			jc.Failure = &junitMessage{Message: "listed as a known deviation but passed: update the expected-failures file", Type: "XPASS", Text: res.Deviation}
		case Skip:
			jc.Skipped = &junitMessage{Message: res.Detail}
		case XFail:
			jc.SystemOut = "XFAIL (expected failure: the runtime's, not sysgate's): " + msg + "\nreason: " + res.Deviation
		}
		set.Cases = append(set.Cases, jc)
	}
	doc := junitSuites{Name: "sysgate conformance", Tests: set.Tests, Failures: set.Failures, Skipped: set.Skipped,
		Time: set.Time, Suites: []junitSet{set}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
