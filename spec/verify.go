package spec

import (
	"errors"
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter"
)

// Verify proves the decided profile is one the runtime will load exactly:
// it must pass validation without errors and compile with libseccomp. A
// profile that fails here would otherwise fail inside runc or crun with
// their message, or, worse, be loaded differently from what it says.
//
// A hit in cache (which may be nil) proves both at once: only profiles that
// passed are stored, the key covers this validator's version and build
// (Policy.Cache), and the cache is read only from a directory nobody but
// root can write (filter.Cache). It returns the compiled program; nil when unconfined.
func (d Decision) Verify(cache *filter.Cache) (*filter.Program, error) {
	if d.Profile == nil {
		return nil, nil
	}
	if prog, hit := cache.Lookup(d.Profile, filter.Options{}); hit {
		return prog, nil
	}
	where := d.Ref
	if d.ProfilePath != "" {
		where = d.ProfilePath
	}
	prog, err := CompileValid(d.Profile, filter.Options{}, cache, nil)
	var invalid *InvalidProfileError
	switch {
	case errors.As(err, &invalid):
		return nil, fmt.Errorf("the seccomp profile %s (asked by %s) is invalid: %w", where, d.From, err)
	case err != nil:
		return nil, fmt.Errorf("the seccomp profile %s (asked by %s) does not compile: %w", where, d.From, err)
	}
	return prog, nil
}

// InvalidProfileError lists the validation errors that keep a profile from
// being compiled.
type InvalidProfileError struct{ Findings []Finding }

func (e *InvalidProfileError) Error() string {
	msgs := make([]string, len(e.Findings))
	for i, f := range e.Findings {
		msgs[i] = f.Path + ": " + f.Message
	}
	return strings.Join(msgs, "; ")
}

// CompileValid is the one way from a profile to a program: validate, refuse
// any error (an *InvalidProfileError) before libseccomp sees the profile,
// hand the warnings to warn (nil: drop them), and compile, through cache
// when it is not nil.
func CompileValid(p *specs.LinuxSeccomp, opts filter.Options, cache *filter.Cache, warn func(Finding)) (*filter.Program, error) {
	var invalid InvalidProfileError
	for _, f := range ValidateProfile(p) {
		switch {
		case f.Severity == Error:
			invalid.Findings = append(invalid.Findings, f)
		case warn != nil:
			warn(f)
		}
	}
	if len(invalid.Findings) > 0 {
		return nil, &invalid
	}
	prog, _, err := cache.Compile(p, opts)
	return prog, err
}
