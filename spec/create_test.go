package spec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sysgate/sysgate/spec/internal/profiletest"
	"github.com/sysgate/sysgate/spec/refusal"
)

// Plan's errors say whose fault they are: a refusal (refusal.Of) for what
// the bundle, the Pod or the policy asked, an internal fault for what the
// node must fix. Exit codes and the containerd shim's status codes follow.
func TestPlanTellsRefusalsFromFaults(t *testing.T) {
	root, _ := decisionRoot(t)
	profiletest.WriteFile(t, filepath.Join(root, "allow-all.json"), `{"defaultAction": "SCMP_ACT_ALLOW"}`)
	outside := filepath.Join(t.TempDir(), "outside.json")
	profiletest.WriteFile(t, outside, profiletest.AuditJSON)
	profiletest.Symlink(t, outside, filepath.Join(root, "escape.json"))
	policy := DefaultPolicy()
	policy.ProfileRoot = root
	policy.CacheDir = ""
	pod := func(ref string) string {
		return writeBundle(t, bundleConfig(map[string]string{keyPod: ref}, ""))
	}
	symlinked := writeBundle(t, "{}")
	os.Rename(filepath.Join(symlinked, "config.json"), filepath.Join(symlinked, "real.json"))
	os.Symlink("real.json", filepath.Join(symlinked, "config.json"))

	for _, tc := range []struct {
		name   string
		dir    string
		policy func(*Policy)
		want   refusal.Reason // "": an internal fault
	}{
		{"no bundle directory", filepath.Join(t.TempDir(), "missing"), nil, refusal.BadInput},
		{"config.json is not JSON", writeBundle(t, "{"), nil, refusal.BadInput},
		{"config.json is a symlink", symlinked, nil, refusal.EscapingPath},
		{"a member twice in linux", writeBundle(t, `{"linux": {"seccomp": null, "Seccomp": null}}`), nil, refusal.BadInput},
		{"an annotation that names no profile", pod("nonsense"), nil, refusal.BadInput},
		{"a Localhost path with ..", pod("localhost/../outside.json"), nil, refusal.EscapingPath},
		{"a Localhost symlink out of the root", pod("localhost/escape.json"), nil, refusal.EscapingPath},
		{"a Localhost profile not installed", pod("localhost/missing.json"), nil, refusal.BadInput},
		{"an invalid Localhost profile", pod("localhost/broken.json"), nil, refusal.InvalidProfile},
		{"unconfined under deny", pod("unconfined"), func(p *Policy) { p.Unconfined = UnconfinedDeny }, refusal.Policy},
		{"allow-all under deny", pod("localhost/allow-all.json"), func(p *Policy) { p.Unconfined = UnconfinedDeny }, refusal.Policy},
		{"the node's runtime_default file is missing", pod("runtime/default"), func(p *Policy) { p.RuntimeDefault = filepath.Join(t.TempDir(), "gone.json") }, ""},
		{"the profile root is unreadable", pod("localhost/profiles/audit.json"), func(p *Policy) { p.ProfileRoot = "/proc/self/fdinfo/not-a-dir" }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := policy
			if tc.policy != nil {
				tc.policy(&p)
			}
			c, err := Plan(nil, tc.dir, "c1", p)
			c.Close()
			if err == nil {
				t.Fatal("Plan succeeded")
			}
			reason, refused := refusal.Of(err)
			if reason != tc.want || refused != (tc.want != "") {
				t.Errorf("refusal.Of(%q) = %q, %v; want %q", err, reason, refused, tc.want)
			}
		})
	}
}
