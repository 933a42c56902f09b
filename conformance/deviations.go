package conformance

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"unicode"
)

// Deviations are a runtime's known departures from the rules: cases that
// fail because of the runtime, not because of sysgate or the machine. A
// listed case that fails is XFAIL, reported with the reason; a listed case
// that passes is XPASS and fails the run, so that a list cannot outlive
// the deviations it records.
type Deviations []Deviation

// Deviation is one line of an expected-failures file.
type Deviation struct {
	Glob   string // case names, path.Match syntax
	Reason string // why the runtime fails it; required
}

// ParseDeviations reads an expected-failures file: one deviation per line,
// a case glob, white space, and the reason; "#" starts a comment line.
func ParseDeviations(r io.Reader, name string) (Deviations, error) {
	var ds Deviations
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		glob, reason := line, ""
		if i := strings.IndexFunc(line, unicode.IsSpace); i >= 0 {
			glob, reason = line[:i], strings.TrimSpace(line[i:])
		}
		if reason == "" {
			return nil, fmt.Errorf("%s:%d: %q has no reason; say why the runtime fails it", name, n, glob)
		}
		if _, err := path.Match(glob, ""); err != nil {
			return nil, fmt.Errorf("%s:%d: bad glob %q: %w", name, n, glob, err)
		}
		ds = append(ds, Deviation{Glob: glob, Reason: reason})
	}
	return ds, sc.Err()
}

// LoadDeviations reads an expected-failures file.
func LoadDeviations(file string) (Deviations, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseDeviations(f, file)
}

// Lookup returns the reason of the first deviation that matches the case.
func (ds Deviations) Lookup(caseName string) (string, bool) {
	for _, d := range ds {
		if ok, _ := path.Match(d.Glob, caseName); ok {
			return d.Reason, true
		}
	}
	return "", false
}

// Unmatched lists the globs that match none of the cases: a stale or
// misspelt line that would otherwise go unnoticed.
func (ds Deviations) Unmatched(cases []Case) []string {
	var out []string
	for _, d := range ds {
		found := false
		for _, c := range cases {
			if ok, _ := path.Match(d.Glob, c.Name); ok {
				found = true
				break
			}
		}
		if !found {
			out = append(out, d.Glob)
		}
	}
	return out
}
