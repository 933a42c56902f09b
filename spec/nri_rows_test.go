package spec

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/spec/bundle"
	"github.com/sysgate/sysgate/spec/profile"
	"github.com/sysgate/sysgate/spec/refusal"
)

func nriPolicy(t *testing.T, root string) Policy {
	t.Helper()
	p := DefaultPolicy()
	p.ProfileRoot, p.CacheDir, p.LogDenials = root, t.TempDir(), false
	return p
}

// TestCRIFieldRow: what the plugin decides from the CRI's own request.
func TestCRIFieldRow(t *testing.T) {
	root, _ := decisionRoot(t)
	rendered := profile.RuntimeDefault([]string{"CAP_SYS_PTRACE"}) // another capability set than newSpec's
	cases := []struct {
		name     string
		spec     *specs.Spec
		cri      *CRIProfile
		explicit bool
		source   string
		typ      profile.Type
		profile  *specs.LinuxSeccomp
		refusal  refusal.Reason
	}{
		{"RuntimeDefault keeps containerd's rendering for the real capabilities", newSpec(containerd("ns", "p", "c"), withSeccomp(rendered)), &CRIProfile{Type: profile.TypeRuntimeDefault}, false, "cri field", profile.TypeRuntimeDefault, rendered, ""},
		{"Localhost beneath the root is loaded by sysgate", newSpec(containerd("ns", "p", "c")), &CRIProfile{Type: profile.TypeLocalhost, LocalhostRef: filepath.Join(root, "profiles/audit.json")}, false, "cri field", profile.TypeLocalhost, nil, ""},
		{"Localhost outside the root is refused", newSpec(containerd("ns", "p", "c")), &CRIProfile{Type: profile.TypeLocalhost, LocalhostRef: filepath.Join(root, "../outside.json")}, false, "cri field", "", nil, refusal.EscapingPath},
		{"a relative Localhost ref is refused", newSpec(containerd("ns", "p", "c")), &CRIProfile{Type: profile.TypeLocalhost, LocalhostRef: "profiles/audit.json"}, false, "cri field", "", nil, refusal.EscapingPath},
		{"Unconfined is unspecified by default: the node default", newSpec(containerd("ns", "p", "c")), &CRIProfile{Type: profile.TypeUnconfined}, false, "node default", profile.TypeRuntimeDefault, nil, ""},
		{"Unconfined is a request with nri_unconfined_is_explicit", newSpec(containerd("ns", "p", "c")), &CRIProfile{Type: profile.TypeUnconfined}, true, "cri field", profile.TypeUnconfined, nil, ""},
		{"no CRI profile: the node default", newSpec(containerd("ns", "p", "c")), nil, true, "node default", profile.TypeRuntimeDefault, nil, ""},
		{"no CRI profile: the annotation still applies", newSpec(containerd("ns", "p", "c"), annotate(keyPod, "unconfined")), nil, true, "pod annotation", profile.TypeUnconfined, nil, ""},
		{"the field wins over the annotation", newSpec(containerd("ns", "p", "c"), annotate(keyPod, "unconfined"), withSeccomp(rendered)), &CRIProfile{Type: profile.TypeRuntimeDefault}, false, "cri field", profile.TypeRuntimeDefault, rendered, ""},
		{"privileged: the field is ignored, as containerd ignores it", newSpec(containerd("ns", "p", "c"), privileged), &CRIProfile{Type: profile.TypeRuntimeDefault}, false, "privileged policy", profile.TypeUnconfined, nil, ""},
		{"an unknown type is refused", newSpec(containerd("ns", "p", "c")), &CRIProfile{Type: "Whatever"}, false, "cri field", "", nil, refusal.BadInput},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			policy := nriPolicy(t, root)
			policy.NRIUnconfinedIsExplicit = c.explicit
			d, err := decide("id1", c.spec, policy, c.cri, true)
			if c.refusal != "" {
				if reason, ok := refusal.Of(err); !ok || reason != c.refusal {
					t.Fatalf("want a %s refusal, got %v", c.refusal, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Source != c.source || d.Type != c.typ {
				t.Errorf("decided %s %s, want %s %s", d.Source, d.Type, c.source, c.typ)
			}
			if c.profile != nil && d.Profile != c.profile {
				t.Errorf("the profile is not containerd's rendering")
			}
		})
	}
}

// signedFor is a bundle spec carrying the plugin's record for profile p.
func signedFor(t *testing.T, policy Policy, id string, p *specs.LinuxSeccomp, typ profile.Type) *specs.Spec {
	t.Helper()
	s := newSpec(containerd("ns", "pod", "app"), withSeccomp(p))
	r := bundle.Record{Source: "cri field", Type: typ, Digest: digestOf(p), Via: ViaNRI}.Signed(policy.RecordKey(), id)
	data, _ := json.Marshal(r)
	s.Annotations[bundle.AnnotationDecision] = string(data)
	return s
}

// TestNRIPluginRow: the handler behind the plugin keeps the plugin's
// signed decision, and nothing else passes for one.
func TestNRIPluginRow(t *testing.T) {
	root, _ := decisionRoot(t)
	policy := nriPolicy(t, root)
	rd := profile.RuntimeDefault(profile.DefaultCapabilities)

	d, err := Decide("id1", signedFor(t, policy, "id1", rd, profile.TypeRuntimeDefault), policy)
	if err != nil || d.Source != "nri plugin" || d.Type != profile.TypeRuntimeDefault || d.Digest != digestOf(rd) {
		t.Errorf("the plugin's record: %+v, %v", d, err)
	}
	// Unconfined, signed: no profile in the bundle, and the node default
	// must not be put in its place.
	s := signedFor(t, policy, "id1", nil, profile.TypeUnconfined)
	s.Linux.Seccomp = nil
	if d, err := Decide("id1", s, policy); err != nil || d.Source != "nri plugin" || d.Type != profile.TypeUnconfined || d.Profile != nil {
		t.Errorf("the plugin's unconfined record: %+v, %v", d, err)
	}
	// Another container's record, or one under another key, is no record.
	if d, _ := Decide("id2", signedFor(t, policy, "id1", rd, profile.TypeRuntimeDefault), policy); d.Source == "nri plugin" {
		t.Error("a record signed for another container was kept")
	}
	other := nriPolicy(t, root)
	if d, _ := Decide("id1", signedFor(t, other, "id1", rd, profile.TypeRuntimeDefault), policy); d.Source == "nri plugin" {
		t.Error("a record signed under another key was kept")
	}
	// A record for another profile than the bundle's: refused.
	s = signedFor(t, policy, "id1", rd, profile.TypeRuntimeDefault)
	s.Linux.Seccomp = profile.RuntimeDefault([]string{"CAP_SYS_ADMIN"})
	if _, err := Decide("id1", s, policy); err == nil || !strings.Contains(err.Error(), "something changed linux.seccomp after the plugin") {
		t.Errorf("a changed profile: %v", err)
	}
}

// TestNRIRequired: the fail-closed companion refuses what the plugin did
// not decide, except the Pod sandbox, which NRI never adjusts.
func TestNRIRequired(t *testing.T) {
	root, _ := decisionRoot(t)
	policy := nriPolicy(t, root)
	policy.NRIRequired = true
	rd := profile.RuntimeDefault(profile.DefaultCapabilities)
	for name, s := range map[string]*specs.Spec{
		"no record":            newSpec(containerd("ns", "pod", "app")),
		"rendered, no record":  newSpec(containerd("ns", "pod", "app"), withSeccomp(rd)),
		"no Pod identity":      newSpec(),
		"another's record":     signedFor(t, policy, "id2", rd, profile.TypeRuntimeDefault),
		"a record not via nri": unsignedVia(t, policy, "id1", rd),
	} {
		_, err := Decide("id1", s, policy)
		if reason, ok := refusal.Of(err); !ok || reason != refusal.Policy || !strings.Contains(err.Error(), "nri_required = true") {
			t.Errorf("%s: want a policy refusal naming nri_required, got %v", name, err)
		}
	}
	if d, err := Decide("id1", newSpec(containerdSandbox("ns", "pod"), withSeccomp(rd)), policy); err != nil || d.Source != "spec" {
		t.Errorf("the sandbox: %+v, %v", d, err)
	}
	if d, err := Decide("id1", signedFor(t, policy, "id1", rd, profile.TypeRuntimeDefault), policy); err != nil || d.Source != "nri plugin" {
		t.Errorf("the plugin's record: %+v, %v", d, err)
	}
}

// unsignedVia is a record sysgate-runc itself signed (no via): it proves a
// handler decided, not the plugin.
func unsignedVia(t *testing.T, policy Policy, id string, p *specs.LinuxSeccomp) *specs.Spec {
	s := newSpec(containerd("ns", "pod", "app"), withSeccomp(p))
	r := bundle.Record{Source: "spec", Type: profile.TypeRuntimeDefault, Digest: digestOf(p)}.Signed(policy.RecordKey(), id)
	data, _ := json.Marshal(r)
	s.Annotations[bundle.AnnotationDecision] = string(data)
	return s
}

// TestPlanNRI: the plugin's plan carries the profile as NRI will write it,
// and signs the record for it.
func TestPlanNRI(t *testing.T) {
	root, _ := decisionRoot(t)
	policy := nriPolicy(t, root)
	dropErrno := func(p *specs.LinuxSeccomp) (*specs.LinuxSeccomp, error) {
		out := *p
		out.DefaultErrnoRet = nil
		return &out, nil
	}
	c, err := PlanNRI("id1", newSpec(containerd("ns", "pod", "app")), nil, policy, dropErrno)
	if err != nil {
		t.Fatal(err)
	}
	if c.Decision.Profile.DefaultErrnoRet != nil || c.Decision.Digest != digestOf(c.Decision.Profile) {
		t.Errorf("carry was not applied before the digest")
	}
	r := c.NRIRecord()
	got, ok := bundle.VerifiedRecord(map[string]string{bundle.AnnotationDecision: mustJSON(t, r)}, policy.RecordKey(), "id1")
	if !ok || got.Via != ViaNRI || got.Digest != c.Decision.Digest {
		t.Errorf("record %+v (verified %v)", got, ok)
	}
	if c.BPF() != nil {
		t.Error("runc is handed no program")
	}
	policy.RuntimeKind = "crun"
	if c, err := PlanNRI("id1", newSpec(containerd("ns", "pod", "app")), nil, policy, dropErrno); err != nil || c.BPF() == nil {
		t.Errorf("crun: no program (%v)", err)
	}
}
