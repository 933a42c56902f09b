package verify

import (
	"errors"
	"fmt"

	"github.com/sysgate/sysgate/conformance/node"
	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/profile"
)

// drift decides again for the container from today's inputs (the policy,
// the Localhost file, the runtime_default file, this sysgate's
// RuntimeDefault) and says whether the decision would differ. With the
// bundle, the whole decision table runs again on the bundle as its engine
// wrote it (spec.Redecide), so a changed policy shows too; without it,
// only the files the recorded decision names can be read again.
func (inv *inventory) drift(f *found, init node.Task) *Drift {
	old := f.record
	if f.spec == nil {
		p, err := spec.RecordedProfile(old, capabilityNames(init.CapBnd))
		switch {
		case err != nil && old.Type == profile.TypeLocalhost:
			return &Drift{Changed: true, Reason: fmt.Sprintf("the Localhost profile cannot be read today: %v", err)}
		case err != nil:
			return &Drift{Unknown: true, Reason: fmt.Sprintf("the bundle is gone and %v", err)}
		case spec.Digest(p) == old.Digest:
			return &Drift{Reason: "the bundle is gone: only the files the decision names were checked, not the policy"}
		}
		return &Drift{Changed: true, Reason: "(the bundle is gone: only the files the decision names were checked) " + changedInput(old, old, spec.Digest(p))}
	}
	d, err := spec.Redecide(old.Container.ID, f.spec, old, inv.policy)
	if errors.Is(err, spec.ErrNotRebuildable) {
		return &Drift{Unknown: true, Reason: err.Error()}
	}
	if err == nil {
		_, err = spec.CheckDecision(d, inv.policy)
	}
	if err != nil {
		return &Drift{Changed: true, Reason: fmt.Sprintf("sysgate would refuse to create it today: %v", err)}
	}
	if d.Digest == old.Digest {
		return &Drift{}
	}
	now := &Decision{Source: d.Source, Type: d.Type, Ref: d.Ref, Digest: d.Digest, ProfilePath: d.ProfilePath, Audit: d.Audit}
	return &Drift{Changed: true, Now: now, Reason: changedInput(old, spec.DecisionRecord{Source: d.Source, Type: d.Type, Ref: d.Ref, Path: d.ProfilePath, Audit: d.Audit}, d.Digest)}
}

// changedInput says which input moved the digest from old's to digest.
func changedInput(old, now spec.DecisionRecord, digest string) string {
	switch {
	case old.Source != now.Source || old.Type != now.Type || old.Ref != now.Ref:
		return fmt.Sprintf("the policy now decides %s %s (%s) instead of %s %s (%s)", now.Type, now.Ref, now.Source, old.Type, old.Ref, old.Source)
	case old.Audit != now.Audit:
		return fmt.Sprintf("the policy's audit mode is now %t", now.Audit)
	case old.Path != now.Path:
		return fmt.Sprintf("the profile now comes from %s instead of %s", orNone(now.Path), orNone(old.Path))
	case old.Type == profile.TypeLocalhost:
		return fmt.Sprintf("the Localhost profile %s was edited since the container was created (digest %s, now %s)", old.Path, old.Digest, digest)
	case old.Path != "":
		return fmt.Sprintf("the node's runtime_default file %s was edited (digest %s, now %s)", old.Path, old.Digest, digest)
	case old.Type == profile.TypeRuntimeDefault:
		return fmt.Sprintf("RuntimeDefault differs in this sysgate (upgraded since?): digest %s, now %s", old.Digest, digest)
	}
	return fmt.Sprintf("the profile's digest is %s, now %s", old.Digest, digest)
}
