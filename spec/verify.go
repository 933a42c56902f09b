package spec

import (
	"errors"
	"fmt"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/spec/profile"
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
	prog, _, err := d.verify(cache)
	return prog, err
}

// verify is Verify, and whether the cache held the program (for the
// helper's metrics).
func (d Decision) verify(cache *filter.Cache) (*filter.Program, bool, error) {
	if d.Profile == nil {
		return nil, false, nil
	}
	if prog, hit := cache.Lookup(d.Profile, filter.Options{}); hit {
		return prog, true, nil
	}
	prog, err := d.compileValid(cache)
	return prog, false, err
}

func (d Decision) compileValid(cache *filter.Cache) (*filter.Program, error) {
	where := d.Ref
	if d.ProfilePath != "" {
		where = d.ProfilePath
	}
	prog, err := profile.CompileValid(d.Profile, filter.Options{}, cache, nil)
	var invalid *profile.InvalidError
	switch {
	case errors.As(err, &invalid):
		return nil, fmt.Errorf("the seccomp profile %s (asked by %s) is invalid: %w", where, d.From, err)
	case err != nil:
		return nil, fmt.Errorf("the seccomp profile %s (asked by %s) does not compile: %w", where, d.From, err)
	}
	return prog, nil
}
