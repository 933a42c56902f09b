package verify

import (
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/conformance/node"
	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/bundle"
	"github.com/sysgate/sysgate/spec/profile"
)

// startSlack: a decision is logged before its container starts, but the
// start time is known only to the second (the boot time's resolution).
const startSlack = 2 * time.Second

// found is sysgate's decision for one container and what came with it.
type found struct {
	// decided: a witness says sysgate decided for the container; without,
	// only notes and the bundle are known.
	decided  bool
	record   spec.DecisionRecord
	evidence string
	// spec is the bundle's config.json as it is now; nil when the bundle
	// could not be read.
	spec      *specs.Spec
	bundleDir string
	notes     []string
}

// decisionFor finds the decision sysgate made for the container. The
// decision log (root's, trusted as the policy file is) is the first
// witness: the newest record for the container's id written before it
// started, so that a record of an earlier container of the same id is
// not taken for it. The bundle's record (signed with the node's key for
// this container id, so nobody else could have written it) is the second;
// when both exist they must agree. A record in the bundle that does not
// verify is nobody's word and is only noted. found.decided is false when
// sysgate never decided for this container, as far as either witness says.
func (inv *inventory) decisionFor(c *node.Container, started time.Time) (*found, error) {
	f := &found{bundleDir: c.Bundle}
	var logged *spec.DecisionRecord
	later := 0
	var records []spec.DecisionRecord
	if c.ID != "" {
		// A container nothing named has no records: a decision logged
		// without an id is nobody's.
		records = inv.records[c.ID]
	}
	for _, r := range records {
		if t := r.Logged(); !t.IsZero() && !started.IsZero() && t.After(started.Add(startSlack)) {
			later++
			continue
		}
		r := r
		logged = &r
	}
	if logged == nil && later > 0 {
		f.notes = append(f.notes, fmt.Sprintf("the decision log has %d decision(s) for id %s made after this container started: they were for another container of that id", later, c.ID))
	}
	if logged != nil && logged.Bundle != "" {
		f.bundleDir = logged.Bundle
	}
	var signed *bundle.Record
	if f.bundleDir != "" {
		s, err := inv.bundleSpec(f.bundleDir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			f.notes = append(f.notes, fmt.Sprintf("its bundle %s is gone", f.bundleDir))
		case err != nil:
			f.notes = append(f.notes, fmt.Sprintf("its bundle cannot be read: %v", err))
		default:
			f.spec = s
			var note string
			signed, note = inv.bundleRecord(s, c.ID)
			if note != "" {
				f.notes = append(f.notes, note)
			}
		}
	}
	switch {
	case logged != nil && signed != nil:
		if logged.Digest != signed.Digest || logged.Source != signed.Source {
			return nil, fmt.Errorf("the decision log (%s, digest %s) and the bundle's signed record (%s, digest %s) disagree about container %s: which one the container was created with cannot be told", logged.Source, orNone(logged.Digest), signed.Source, orNone(signed.Digest), c.ID)
		}
		f.record, f.evidence = *logged, "decision log and signed bundle record"
	case logged != nil:
		f.record, f.evidence = *logged, "decision log"
	case signed != nil:
		f.record = spec.DecisionRecord{Container: spec.Container{ID: c.ID}, Source: signed.Source, Type: signed.Type,
			Ref: signed.Ref, Digest: signed.Digest, Audit: signed.Audit, Bundle: f.bundleDir}
		f.evidence = "signed bundle record"
	default:
		return f, nil
	}
	f.decided = true
	if f.spec != nil && f.spec.Annotations[bundle.AnnotationCrunBPF] != "" {
		// The log of an older sysgate does not say; the bundle does.
		f.record.Handoff = true
	}
	return f, nil
}

// bundleRecord is the bundle's decision record when it verifies under the
// node's key for this container, and a note when a record is there but
// does not.
func (inv *inventory) bundleRecord(s *specs.Spec, id string) (*bundle.Record, string) {
	raw, ok := s.Annotations[bundle.AnnotationDecision]
	if !ok {
		return nil, ""
	}
	var r bundle.Record
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return nil, fmt.Sprintf("the bundle's %s annotation is not a record: %v", bundle.AnnotationDecision, err)
	}
	if inv.key == nil || r.MAC == "" || id == "" || !hmac.Equal([]byte(r.MAC), []byte(r.Signed(inv.key, id).MAC)) {
		return nil, fmt.Sprintf("the bundle carries a %s record this node did not sign for container %s (set by a client, copied from another container, or signed with an older record key): it is not evidence", bundle.AnnotationDecision, orNone(id))
	}
	return &r, ""
}

// readBundleSpec reads config.json of a bundle directory.
func readBundleSpec(dir string) (*specs.Spec, error) {
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		return nil, err
	}
	b, err := bundle.ReadBundle(dir)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return b.Spec, nil
}

// decidedProfile finds the profile whose digest the decision recorded.
// The digest is the anchor: any source is taken only if what it holds
// hashes to it. In order: the bundle's linux.seccomp (sysgate wrote it
// there), the files the record names as they are now (a Localhost
// profile, the node's runtime_default file, or containerd's RuntimeDefault
// for the capabilities the bundle or the init process holds). The
// compiled-program cache is not
// a source: a cached program is what crun was handed, and a damaged entry
// would vouch for itself.
func (inv *inventory) decidedProfile(f *found, init node.Task) (*specs.LinuxSeccomp, error) {
	want := f.record.Digest
	if f.record.Type == profile.TypeUnconfined && want == "" {
		return nil, nil
	}
	if want == "" {
		return nil, fmt.Errorf("the decision (%s %s) records no digest", f.record.Type, f.record.Ref)
	}
	var tried []string
	try := func(what string, p *specs.LinuxSeccomp, err error) *specs.LinuxSeccomp {
		switch {
		case err != nil:
			tried = append(tried, fmt.Sprintf("%s: %v", what, err))
		case p == nil:
		case spec.Digest(p) == want:
			return p
		default:
			tried = append(tried, fmt.Sprintf("%s has digest %s", what, spec.Digest(p)))
		}
		return nil
	}
	if f.spec != nil && f.spec.Linux != nil {
		if p := try("the bundle's linux.seccomp", f.spec.Linux.Seccomp, nil); p != nil {
			return p, nil
		}
	}
	var capSets [][]string
	if f.spec != nil && f.spec.Process != nil && f.spec.Process.Capabilities != nil {
		capSets = append(capSets, f.spec.Process.Capabilities.Bounding)
	}
	capSets = append(capSets, capabilityNames(init.CapBnd))
	for _, caps := range capSets {
		p, err := spec.RecordedProfile(f.record, caps)
		what := "the profile file " + f.record.Path + " as it is now"
		if f.record.Path == "" {
			what = "RuntimeDefault for capabilities " + strings.Join(caps, ",")
		}
		if p := try(what, p, err); p != nil {
			return p, nil
		}
		if f.record.Path != "" {
			break // the same file whatever the capabilities
		}
	}
	return nil, fmt.Errorf("the decided profile (digest %s) cannot be found: %s", want, strings.Join(tried, "; "))
}

// capabilityNames names the bits of a CapBnd mask.
func capabilityNames(mask uint64) []string {
	var names []string
	for bit, name := range profile.CapabilityNames {
		if mask&(1<<bit) != 0 {
			names = append(names, name)
		}
	}
	return names
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
