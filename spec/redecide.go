package spec

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/spec/bundle"
	"github.com/sysgate/sysgate/spec/profile"
)

// ErrNotRebuildable: Redecide cannot rebuild the bundle as it arrived.
var ErrNotRebuildable = errors.New("the bundle's own profile was rewritten by the policy's audit mode, so the profile it arrived with cannot be rebuilt")

// Digest is the digest a decision records for a profile ("sha256:..." of
// its JSON encoding); "" for none (unconfined).
func Digest(p *specs.LinuxSeccomp) string { return digestOf(p) }

// Redecide decides again, under policy, for a container whose bundle
// sysgate already rewrote, as if the bundle had just arrived: the record
// says what sysgate changed, so the bundle as its engine wrote it can be
// rebuilt. sysgate's annotations go; linux.seccomp goes where sysgate put
// it (every source but "spec"), and where the node's runtime_default file
// replaced containerd's RuntimeDefault, containerd's comes back. The
// digest of the result, compared with the record's, says whether the
// decision would differ today (sysgate ps --drift).
//
// A rendered profile the policy's audit mode rewrote cannot be rebuilt
// (its default action is gone): that is an error.
func Redecide(id string, s *specs.Spec, record DecisionRecord, policy Policy) (Decision, error) {
	orig := *s
	orig.Annotations = map[string]string{}
	for k, v := range s.Annotations {
		if k != bundle.AnnotationDecision && k != bundle.AnnotationCrunBPF {
			orig.Annotations[k] = v
		}
	}
	if s.Linux != nil {
		linux := *s.Linux
		orig.Linux = &linux
		switch {
		case record.Source != "spec":
			linux.Seccomp = nil
		case record.Type == profile.TypeRuntimeDefault && record.Path != "":
			linux.Seccomp = runtimeDefaultFor(s)
		case record.Audit:
			return Decision{}, ErrNotRebuildable
		}
	}
	return Decide(id, &orig, policy)
}

// RecordedProfile rebuilds the profile a recorded decision produced from
// the inputs the record names, as they are now, without the bundle: the
// file at the record's profile path (a Localhost profile or the node's
// runtime_default file) or containerd's RuntimeDefault for caps, with the
// policy's audit rewrite when the record says so. Only a result whose
// digest equals the record's is the decided profile. A profile the bundle
// brought itself (Rendered) exists only in its bundle: an error.
func RecordedProfile(record DecisionRecord, caps []string) (*specs.LinuxSeccomp, error) {
	var p *specs.LinuxSeccomp
	var err error
	switch {
	case record.Type == profile.TypeUnconfined:
		return nil, nil
	case record.Path != "":
		// Rendered for the container as create rendered it: a
		// Docker-format file depends on its capabilities.
		var t *profile.Template
		if t, err = profile.LoadTemplate(record.Path); err == nil {
			p = t.Render(caps, profile.HostNode())
		}
	case record.Type == profile.TypeRuntimeDefault:
		p = profile.RuntimeDefault(caps)
	default:
		return nil, fmt.Errorf("a %s profile (%s) exists only in its bundle", record.Type, record.Ref)
	}
	if err != nil {
		return nil, err
	}
	if record.Audit {
		p = auditProfile(p)
	}
	return p, nil
}
