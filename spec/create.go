package spec

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/spec/bundle"
)

// Create is one container's create, planned: its decision and its rendered
// config.json, checked but not yet written. Every caller goes through it:
// sysgate-runc and the containerd shim (Prepare), the helper (which needs
// the two steps apart, to hand a container with a warning back to its
// client before anything is written) and `sysgate resolve` (which only
// plans).
type Create struct {
	Decision Decision
	// Warning must be said to the caller but does not stop the container.
	Warning string
	// CacheHit: the compiled program came from the policy's cache.
	CacheHit bool
	// Bundle is the bundle, resolved once into a descriptor that Commit
	// writes through.
	Bundle *bundle.Bundle

	policy  Policy
	config  []byte // nil when the bundle already says it all
	bpf     []byte // crun's program, when crun is handed it
	handoff bool   // crun is handed the compiled program
}

// Plan does every check of a create and writes nothing: it reads the
// bundle (dir resolved relative to at, nil: the working directory),
// decides, checks the decision against the policy, proves the profile
// (validated and compiled, through the policy's cache) and that the runtime
// enforces all of it, and renders
// config.json. On error the Create holds what was found so far (the
// decision, when one was reached). Close releases it either way.
func Plan(at *os.File, dir, id string, policy Policy) (*Create, error) {
	c := &Create{policy: policy}
	b, err := bundle.OpenBundle(at, dir)
	if err != nil {
		return c, err
	}
	c.Bundle = b
	b.RecordKey = policy.RecordKey()
	if err := c.decide(id, b.Spec, nil, false, nil); err != nil {
		return c, err
	}
	out, changed, err := b.Rendered(c.Decision.Applied(), c.bpf)
	if err != nil {
		return c, err
	}
	if changed {
		c.config = out
	}
	return c, nil
}

// PlanNRI is Plan for the NRI plugin, which sees a container before its
// bundle exists: s is what NRI shows of the container, cri the CRI's
// request (nil when it named none). carry turns the decided profile into
// what NRI can carry to containerd (or refuses it) before it is checked
// and compiled, so the record and the program are those of the profile
// the runtime will read. Nothing is written; LogNRI records the decision.
func PlanNRI(id string, s *specs.Spec, cri *CRIProfile, policy Policy, carry func(*specs.LinuxSeccomp) (*specs.LinuxSeccomp, error)) (*Create, error) {
	c := &Create{policy: policy}
	return c, c.decide(id, s, cri, true, carry)
}

// decide is Plan's work short of rendering: the decision, the policy's
// unconfined rule, the profile proven (validated and compiled, through
// the cache), the runtime's enforcement, and crun's program.
func (c *Create) decide(id string, s *specs.Spec, cri *CRIProfile, atNRI bool, carry func(*specs.LinuxSeccomp) (*specs.LinuxSeccomp, error)) error {
	var err error
	if c.Decision, err = decide(id, s, c.policy, cri, atNRI); err != nil {
		return inContainer(id, err)
	}
	if carry != nil && c.Decision.Profile != nil {
		p, err := carry(c.Decision.Profile)
		if err != nil {
			return inContainer(id, err)
		}
		c.Decision.Profile, c.Decision.Digest = p, digestOf(p)
	}
	if c.Warning, err = CheckDecision(c.Decision, c.policy); err != nil {
		return err
	}
	prog, hit, err := c.Decision.verify(c.policy.Cache())
	c.CacheHit = hit
	if err != nil {
		return inContainer(id, err)
	}
	if err := checkRuntimeEnforces(c.Decision, prog, c.policy); err != nil {
		return inContainer(id, err)
	}
	if prog != nil && c.policy.HandsOverBPF() {
		c.bpf = prog.Bytes()
	}
	c.handoff = c.bpf != nil
	return nil
}

// BPF is the compiled program crun is handed; nil when the runtime
// compiles the profile itself, or the container runs unconfined.
func (c *Create) BPF() []byte { return c.bpf }

// NRIRecord is the decision record the NRI plugin puts into the
// container's annotations, signed for the container under the node's key:
// a runtime handler in front of the container finds it there
// (docs/decision.md, row nri plugin).
func (c *Create) NRIRecord() bundle.Record {
	r := c.Decision.Applied().Record
	r.Via = ViaNRI
	return r.Signed(c.policy.RecordKey(), c.Decision.Container.ID)
}

// LogNRI records the NRI plugin's decision in the decision log.
func (c *Create) LogNRI(warn func(string)) {
	record := recordOf(c.Decision, ViaNRI)
	record.Handoff = c.handoff
	writeDecisionLog(c.policy, record, warn)
}

// Decided reports whether Plan got as far as a decision.
func (c *Create) Decided() bool { return c.Decision.Source != "" }

// Close releases the bundle's descriptor.
func (c *Create) Close() { c.Bundle.Close() }

// Commit writes config.json and records the decision; via says who did it
// when it was not sysgate-runc itself, and warn receives what must be said
// without stopping the container (a decision log that cannot be written).
func (c *Create) Commit(via string, warn func(string)) error {
	if c.config != nil {
		if err := c.Bundle.WriteConfig(c.config); err != nil {
			return err
		}
	}
	record := recordOf(c.Decision, via)
	record.Bundle, record.Handoff = c.Bundle.Dir, c.handoff
	writeDecisionLog(c.policy, record, warn)
	return nil
}

// Prepare decides a container's profile and rewrites its bundle: Plan, the
// warning to warn, then Commit. Nothing is written until every check has
// passed, so on error config.json is what the caller gave. It returns the
// bundle's real path, which the runtime is then given.
func Prepare(at *os.File, dir, id string, policy Policy, warn func(string)) (Decision, string, error) {
	c, err := Plan(at, dir, id, policy)
	defer c.Close()
	if err != nil {
		return c.Decision, "", err
	}
	if c.Decision.Record != nil {
		return c.Decision, "", errRecordNeedsWrapper(id)
	}
	if c.Warning != "" {
		warn(c.Warning)
	}
	return c.Decision, c.Bundle.Dir, c.Commit("", warn)
}

// inContainer names the container an error is about, when it has an id.
func inContainer(id string, err error) error {
	if id == "" {
		return err
	}
	return fmt.Errorf("container %s: %w", id, err)
}
