package k8s

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestErrorsInDescribe: each way a Pod can fail for seccomp shows in
// `kubectl describe pod`, and says which layer refused it.
func TestErrorsInDescribe(t *testing.T) {
	c := requireCluster(t)

	t.Run("apiserver rejects an absolute or escaping localhostProfile", func(t *testing.T) {
		// The API server's validation refuses these before any node sees
		// them (pkg/apis/core/validation: validateLocalDescendingPath), so
		// neither the kubelet nor sysgate is asked.
		ns := c.namespace(t, "err-apiserver")
		for _, tc := range []struct{ profile, want string }{
			{"/etc/sysgate/evil.json", "must be a relative path"},
			{"profiles/../../../etc/passwd", "must not contain '..'"},
		} {
			p := testPod{Name: "bad-path", RuntimeClass: "sysgate", Seccomp: "{type: Localhost, localhostProfile: " + tc.profile + "}"}
			out, stderr, err := c.kubectlIn(p.yaml(), "apply", "-n", ns, "-f", "-")
			t.Logf("kubectl apply, localhostProfile %s:\n%s%s", tc.profile, out, stderr)
			if err == nil || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "localhostProfile") {
				t.Errorf("localhostProfile %s: kubectl apply: %v, %s%s; want the apiserver's %q", tc.profile, err, out, stderr, tc.want)
			}
		}
	})

	t.Run("missing Localhost file", func(t *testing.T) {
		// The field: containerd reads the file the kubelet names (under the
		// kubelet's root) to render it, and fails the create with the path.
		// The same on every handler: sysgate is never called.
		ns := c.namespace(t, "err-missing")
		missing := filepath.Join(c.profileRoot, "profiles", "missing.json")
		for _, h := range []string{"runc", "sysgate"} {
			p := testPod{Name: "missing-" + h, RuntimeClass: h, Seccomp: "{type: Localhost, localhostProfile: profiles/missing.json}"}
			c.applyIn(t, ns, p.yaml())
			d := c.waitDescribe(t, ns, p.Name, "CreateContainerError", missing)
			t.Logf("kubectl describe pod %s (excerpt):\n%s", p.Name, excerpt(d, missing))
		}
		// The annotation the deploy/ snippet passes through: only sysgate
		// reads it, so the refusal is sysgate's, naming the file.
		p := testPod{Name: "missing-annotation", RuntimeClass: "sysgate",
			Annotations: map[string]string{"seccomp.security.alpha.kubernetes.io/pod": "localhost/profiles/missing.json"}}
		c.applyIn(t, ns, p.yaml())
		d := c.waitDescribe(t, ns, p.Name, "sysgate", missing)
		t.Logf("kubectl describe pod %s (excerpt):\n%s", p.Name, excerpt(d, missing))
		c.assertNothingRan(t, ns, p.Name)
	})

	t.Run("unconfined deny and an exempt namespace", func(t *testing.T) {
		// The kubelet sends Unconfined for the field and for no field alike
		// (docs/deploy.md, "The known limit"), so the field alone falls to
		// the node default; the opt-out sysgate sees is the annotation,
		// which the apiserver accepts beside a matching field (with a
		// warning that it is "non-functional": it is, under sysgate).
		if err := c.writePolicy("unconfined = \"deny\"\nexempt_namespaces = [\"err-exempt\"]"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.writePolicy("") })
		ns := c.namespace(t, "err-deny")
		exempt := c.namespace(t, "err-exempt")
		for _, h := range []string{"sysgate", "sysgate-shim"} {
			p := testPod{Name: "unconfined-" + h, RuntimeClass: h, Seccomp: "{type: Unconfined}",
				Annotations: map[string]string{"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}}
			c.applyIn(t, ns, p.yaml())
			d := c.waitDescribe(t, ns, p.Name, "refusing to create", "exempt_namespaces")
			t.Logf("kubectl describe pod %s (excerpt):\n%s", p.Name, excerpt(d, "deny"))
			c.assertNothingRan(t, ns, p.Name)

			c.applyIn(t, exempt, p.yaml())
			c.waitReady(t, exempt, p.Name)
			o := c.observe(t, exempt, p.Name, "app")
			if o.HostSeccomp != "0" || o.Decision.Container.Namespace != exempt {
				t.Errorf("%s in exempt namespace %s: Seccomp %s, decision %+v; want it unconfined as asked", p.Name, exempt, o.HostSeccomp, o.Decision)
			}

			field := testPod{Name: "field-only-" + h, RuntimeClass: h, Seccomp: "{type: Unconfined}"}
			c.applyIn(t, ns, field.yaml())
			c.waitReady(t, ns, field.Name)
			if o := c.observe(t, ns, field.Name, "app"); o.HostSeccomp != "2" || o.Decision.Source != "node default" {
				t.Errorf("%s: Seccomp %s, decision %+v; want the node default", field.Name, o.HostSeccomp, o.Decision)
			}
		}
	})

	t.Run("bad node policy", func(t *testing.T) {
		// A typo in the node's policy: every create through sysgate fails,
		// the sandbox's first, and nothing starts unconfined.
		if err := c.writePolicy(`defualt = "unconfined"`); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.writePolicy("") })
		ns := c.namespace(t, "err-policy")
		for _, h := range []string{"sysgate", "sysgate-shim"} {
			p := testPod{Name: "bad-policy-" + h, RuntimeClass: h}
			c.applyIn(t, ns, p.yaml())
			d := c.waitDescribe(t, ns, p.Name, "FailedCreatePodSandBox", c.policyPath, `unknown key "defualt"`)
			t.Logf("kubectl describe pod %s (excerpt):\n%s", p.Name, excerpt(d, "defualt"))
			c.assertNothingRan(t, ns, p.Name)
		}
	})
}

// assertNothingRan: the Pod has no running container and no task of it
// runs in containerd.
func (c *cluster) assertNothingRan(t testing.TB, ns, pod string) {
	t.Helper()
	info := c.pod(t, ns, pod)
	for name, ci := range info.Containers {
		if ci.Ready || ci.Waiting.Reason == "" {
			t.Errorf("%s/%s container %s is not waiting: %+v", ns, pod, name, ci)
		}
	}
	out, err := c.crictl("ps", "-q", "--label", "io.kubernetes.pod.namespace="+ns, "--label", "io.kubernetes.pod.name="+pod)
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("%s/%s: crictl ps lists running containers: %v %s", ns, pod, err, out)
	}
}

// excerpt is the lines of s that mention needle, for the test log.
func excerpt(s, needle string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, needle) || strings.Contains(line, "Reason:") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
