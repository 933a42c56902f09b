package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysgate/sysgate/spec/bundle"
	"github.com/sysgate/sysgate/spec/internal/profiletest"
	"github.com/sysgate/sysgate/spec/profile"
)

// Redecide on a bundle sysgate rewrote gives the recorded digest as long
// as nothing changed, and another one once an input did.
func TestRedecide(t *testing.T) {
	rendered := mustMarshal(profile.RuntimeDefault(profile.DefaultCapabilities))
	for _, tc := range []struct {
		name        string
		annotations map[string]string
		seccomp     string // the bundle's own linux.seccomp
		policy      func(p *Policy, nodeDefault string)
		change      func(t *testing.T, p *Policy, root, nodeDefault string)
		err         string // Redecide's error after the change
	}{
		{name: "node default, policy changed to unconfined",
			change: func(t *testing.T, p *Policy, _, _ string) { p.Default = "unconfined" }},
		{name: "Localhost file edited",
			annotations: map[string]string{keyPod: "localhost/profiles/audit.json"},
			change: func(t *testing.T, _ *Policy, root, _ string) {
				profiletest.WriteFile(t, filepath.Join(root, "profiles", "audit.json"), profiletest.OtherJSON)
			}},
		{name: "the bundle's own profile, now replaced by a runtime_default file",
			seccomp: rendered,
			change:  func(t *testing.T, p *Policy, _, nodeDefault string) { p.RuntimeDefault = nodeDefault }},
		{name: "runtime_default file edited",
			seccomp: rendered,
			policy:  func(p *Policy, nodeDefault string) { p.RuntimeDefault = nodeDefault },
			change: func(t *testing.T, _ *Policy, _, nodeDefault string) {
				profiletest.WriteFile(t, nodeDefault, profiletest.AuditJSON)
			}},
		{name: "an audited rendered profile cannot be rebuilt",
			seccomp: mustMarshal(profiletest.OtherWant()),
			policy:  func(p *Policy, _ string) { p.Audit = true },
			err:     "audit mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, nodeDefault := decisionRoot(t)
			policy := DefaultPolicy()
			policy.ProfileRoot, policy.CacheDir = root, ""
			policy.DecisionLog = filepath.Join(t.TempDir(), "decisions.jsonl")
			if tc.policy != nil {
				tc.policy(&policy, nodeDefault)
			}
			dir := writeBundle(t, bundleConfig(tc.annotations, tc.seccomp))
			if _, _, err := Prepare(nil, dir, "c1", policy, func(string) {}); err != nil {
				t.Fatal(err)
			}
			records, err := ReadDecisionLog(policy.DecisionLog, func(string, []byte) bool { return true })
			if err != nil || len(records) != 1 {
				t.Fatalf("records %v, %v", records, err)
			}
			record := records[0]
			b, err := bundle.ReadBundle(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()

			again, err := Redecide("c1", b.Spec, record, policy)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Redecide = %+v, %v; want an error with %q", again, err, tc.err)
				}
				return
			}
			if err != nil || again.Digest != record.Digest || again.Source != record.Source {
				t.Fatalf("unchanged inputs: %s %s, %v; want the record's %s %s", again.Source, again.Digest, err, record.Source, record.Digest)
			}
			tc.change(t, &policy, root, nodeDefault)
			again, err = Redecide("c1", b.Spec, record, policy)
			if err != nil || again.Digest == record.Digest {
				t.Errorf("after the change: %s %s, %v; want another digest than %s", again.Type, again.Digest, err, record.Digest)
			}
		})
	}
}

func TestRecordedProfile(t *testing.T) {
	root, nodeDefault := decisionRoot(t)
	local := filepath.Join(root, "profiles", "audit.json")
	rd := profile.RuntimeDefault(profile.DefaultCapabilities)
	for _, tc := range []struct {
		name   string
		record DecisionRecord
		digest string // the digest of the profile rebuilt
		err    string
	}{
		{"Localhost", DecisionRecord{Type: profile.TypeLocalhost, Path: local}, Digest(profiletest.AuditWant()), ""},
		{"RuntimeDefault for the caps", DecisionRecord{Type: profile.TypeRuntimeDefault}, Digest(rd), ""},
		{"the node's runtime_default file", DecisionRecord{Type: profile.TypeRuntimeDefault, Path: nodeDefault}, Digest(profiletest.OtherWant()), ""},
		{"audited", DecisionRecord{Type: profile.TypeRuntimeDefault, Audit: true}, Digest(auditProfile(rd)), ""},
		{"unconfined", DecisionRecord{Type: profile.TypeUnconfined}, "", ""},
		{"rendered", DecisionRecord{Type: profile.TypeRendered, Ref: keptRef}, "", "only in its bundle"},
		{"a Localhost file that is gone", DecisionRecord{Type: profile.TypeLocalhost, Path: filepath.Join(root, "gone.json")}, "", "gone.json"},
	} {
		p, err := RecordedProfile(tc.record, profile.DefaultCapabilities)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.err)
			}
		case err != nil || Digest(p) != tc.digest:
			t.Errorf("%s: digest %s, %v; want %s", tc.name, Digest(p), err, tc.digest)
		}
	}
	if _, err := os.Stat(local); err != nil {
		t.Fatal(err)
	}
}
