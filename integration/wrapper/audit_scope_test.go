package wrapper

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/spec"
)

// The attack: a Pod author adds io.github.sysgate.audit = "true" to turn
// their own filter into LOG. Outside audit_opt_in_namespaces sysgate-runc
// refuses the create (exit 1, config.json untouched) and mkdir stays
// denied; inside, the container runs in audit mode.
func TestAuditAnnotationCannotWeakenAFilterOutsideOptIn(t *testing.T) {
	requireRoot(t)
	for _, rt := range runtimes(t) {
		t.Run(rt.name, func(t *testing.T) {
			n := newNode(t, rt, `audit_opt_in_namespaces = ["learning"]`)
			// mkdir denied by the default action: what audit mode turns
			// into LOG.
			p := denyMkdirProfile()
			p.Syscalls = p.Syscalls[:len(p.Syscalls)-1]
			n.addProfile("profiles/no-mkdir.json", p)
			identity := func(ns string, audit bool) map[string]string {
				a := map[string]string{
					"io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.container-name": "app",
					"io.kubernetes.cri.sandbox-name": "p", "io.kubernetes.cri.sandbox-namespace": ns,
					"io.kubernetes.cri.sandbox-id":                "sandbox0",
					spec.AnnotationContainerSeccompPrefix + "app": "localhost/profiles/no-mkdir.json",
				}
				if audit {
					a[spec.AnnotationAudit] = "true"
				}
				return a
			}
			res, _ := n.run(bundle.Options{Args: shell, Annotations: identity("prod", false)})
			if o := observe(t, res); o.mkdir || o.seccomp != "2" {
				t.Fatalf("the profile does not deny mkdir to begin with: %+v", o)
			}
			dir := n.bundle(bundle.Options{Args: shell, Annotations: identity("prod", true)})
			before, err := os.ReadFile(filepath.Join(dir, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			id := newID("audit")
			res = n.cmd(false, "create", "--bundle", dir, id)
			n.cmd(true, "delete", "--force", id)
			if res.code != 1 || !strings.Contains(res.stderr, spec.AnnotationAudit) || !strings.Contains(res.stderr, "audit_opt_in_namespaces") {
				t.Fatalf("the annotation outside the opt-in namespaces: %s", res)
			}
			fileUnchanged(t, filepath.Join(dir, "config.json"), before)

			res, _ = n.run(bundle.Options{Args: shell, Annotations: identity("learning", true)})
			o := observe(t, res)
			if o.seccomp != "2" || !o.mkdir {
				t.Errorf("in an opted-in namespace the container should run filtered in audit mode (mkdir logged, not denied): %+v\n%s", o, res)
			}
		})
	}
}
