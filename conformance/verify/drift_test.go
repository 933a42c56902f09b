package verify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/profile"
)

func TestChangedInput(t *testing.T) {
	rd := spec.DecisionRecord{Source: "node default", Type: profile.TypeRuntimeDefault, Ref: "runtime/default", Digest: "sha256:a"}
	local := spec.DecisionRecord{Source: "pod annotation", Type: profile.TypeLocalhost, Ref: "localhost/p.json", Path: "/root/p.json", Digest: "sha256:a"}
	withFile := rd
	withFile.Path = "/etc/sysgate/default.json"
	audited := rd
	audited.Audit = true
	unconfined := spec.DecisionRecord{Source: "node default", Type: profile.TypeUnconfined, Ref: "unconfined"}
	for _, tc := range []struct {
		name     string
		old, now spec.DecisionRecord
		want     string
	}{
		{"policy default changed", rd, unconfined, "the policy now decides Unconfined unconfined (node default) instead of RuntimeDefault runtime/default (node default)"},
		{"audit switched on", rd, audited, "audit mode is now true"},
		{"runtime_default file named", rd, withFile, "now comes from /etc/sysgate/default.json instead of (none)"},
		{"Localhost file edited", local, local, "the Localhost profile /root/p.json was edited"},
		{"runtime_default file edited", withFile, withFile, "runtime_default file /etc/sysgate/default.json was edited"},
		{"RuntimeDefault of another sysgate", rd, rd, "RuntimeDefault differs in this sysgate"},
	} {
		if got := changedInput(tc.old, tc.now, "sha256:b"); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// Drift against a real decision: none while nothing changed, then the
// edited Localhost file; with the bundle gone, only the file is checked.
func TestDrift(t *testing.T) {
	n := newTestNode(t)
	local := filepath.Join(n.policy.ProfileRoot, "profiles", "p.json")
	if err := os.WriteFile(local, []byte(`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := n.prepare("d1", map[string]string{spec.AnnotationPodSeccomp: "localhost/profiles/p.json"})
	inv := n.inventory()
	f := func() *found {
		f, err := inv.decisionFor(nodeContainer("d1"), nowish())
		if err != nil || !f.decided {
			t.Fatalf("decisionFor: %+v, %v", f, err)
		}
		return f
	}
	if d := inv.drift(f(), taskWithCaps()); d.Changed || d.Unknown {
		t.Errorf("unchanged: %+v", d)
	}
	if err := os.WriteFile(local, []byte(`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	inv = n.inventory()
	d := inv.drift(f(), taskWithCaps())
	if !d.Changed || d.Now == nil || d.Now.Type != profile.TypeLocalhost || !strings.Contains(d.Reason, "p.json was edited") {
		t.Errorf("after the edit: %+v", d)
	}
	os.RemoveAll(dir)
	inv = n.inventory()
	if d := inv.drift(f(), taskWithCaps()); !d.Changed || !strings.Contains(d.Reason, "the bundle is gone") {
		t.Errorf("bundle gone: %+v", d)
	}
	// A policy that would now refuse the container.
	os.Remove(local)
	inv = n.inventory()
	if d := inv.drift(f(), taskWithCaps()); !d.Changed || !strings.Contains(d.Reason, "cannot be read today") {
		t.Errorf("Localhost file removed: %+v", d)
	}
}
