package profile

import (
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/spec/refusal"
)

// InvalidError lists the validation errors that keep a profile from
// being compiled.
type InvalidError struct{ Findings []Finding }

func (e *InvalidError) Error() string {
	msgs := make([]string, len(e.Findings))
	for i, f := range e.Findings {
		msgs[i] = f.Path + ": " + f.Message
	}
	return strings.Join(msgs, "; ")
}

// CompileValid is the one way from a profile to a program: validate, refuse
// any error (an *InvalidError) before libseccomp sees the profile,
// hand the warnings to warn (nil: drop them), and compile, through cache
// when it is not nil.
func CompileValid(p *specs.LinuxSeccomp, opts filter.Options, cache *filter.Cache, warn func(Finding)) (*filter.Program, error) {
	var invalid InvalidError
	for _, f := range Validate(p) {
		switch {
		case f.Severity == SeverityError:
			invalid.Findings = append(invalid.Findings, f)
		case warn != nil:
			warn(f)
		}
	}
	if len(invalid.Findings) > 0 {
		return nil, refusal.New(refusal.InvalidProfile, &invalid)
	}
	// A profile that validates and still does not compile is the
	// profile's fault too: libseccomp refuses what it says.
	prog, _, err := cache.Compile(p, opts)
	return prog, refusal.New(refusal.InvalidProfile, err)
}
