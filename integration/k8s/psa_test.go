package k8s

import (
	"strings"
	"testing"
)

// restrictedFields are what the restricted Pod Security Standard asks of
// every container besides a seccomp profile; the seed's Pods set none of
// them, so they are added here, in the container's securityContext.
const restrictedFields = `      runAsNonRoot: true
      runAsUser: 65534
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
`

// withRestrictedFields adds restrictedFields to every container of the
// seed's manifest, keeping its seccompProfile lines as they are.
func withRestrictedFields(t testing.TB, manifest string) string {
	t.Helper()
	var b strings.Builder
	lines := strings.Split(manifest, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		b.WriteString(line + "\n")
		if !strings.HasPrefix(line, "    image: ") && !strings.HasPrefix(line, "    command: ") {
			continue
		}
		// After a container's image (and command): its securityContext,
		// opened here or already there.
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "    command: ") {
			continue
		}
		if i+1 < len(lines) && lines[i+1] == "    securityContext:" {
			b.WriteString(lines[i+1] + "\n")
			i++
		} else {
			b.WriteString("    securityContext:\n")
		}
		b.WriteString(restrictedFields)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// TestPodSecurityAdmission: Pod Security Admission judges the Pod's fields
// at the apiserver, before any node; sysgate's node default and the
// kubelet's --seccomp-default are invisible to it.
//   - baseline admits the seed's Pods as written and rejects Unconfined;
//   - restricted rejects the seed's Pods as written, but not for their
//     seccomp profiles: with the restricted fields added they are admitted
//     and run filtered on sysgate; Unconfined, and a Pod that sets no
//     profile at all, are rejected for the profile.
func TestPodSecurityAdmission(t *testing.T) {
	c := requireCluster(t)

	t.Run("baseline", func(t *testing.T) {
		ns := c.namespace(t, "psa-baseline", "pod-security.kubernetes.io/enforce=baseline")
		c.applyIn(t, ns, seedManifest(t, "sysgate"))
		c.waitReady(t, ns, "secure-app", "mixed-app", "custom-seccomp")
		p := testPod{Name: "unconfined", RuntimeClass: "sysgate", Seccomp: "{type: Unconfined}"}
		out, stderr, err := c.kubectlIn(p.yaml(), "apply", "-n", ns, "-f", "-")
		t.Logf("baseline, Unconfined: %s%s", out, stderr)
		if err == nil || !strings.Contains(stderr, "violates PodSecurity \"baseline:latest\"") || !strings.Contains(stderr, "seccompProfile") {
			t.Errorf("an Unconfined Pod in a baseline namespace: %v %s%s", err, out, stderr)
		}
	})

	t.Run("restricted", func(t *testing.T) {
		ns := c.namespace(t, "psa-restricted", "pod-security.kubernetes.io/enforce=restricted")
		out, stderr, err := c.kubectlIn(seedManifest(t, "sysgate"), "apply", "-n", ns, "-f", "-")
		t.Logf("restricted, the seed's Pods as written:\n%s%s", out, stderr)
		if err == nil || strings.Contains(stderr, "seccompProfile") || !strings.Contains(stderr, "allowPrivilegeEscalation") {
			t.Errorf("the seed's Pods as written in a restricted namespace: %v; want rejected for the other restricted fields, not for seccomp:\n%s%s", err, out, stderr)
		}

		c.applyIn(t, ns, withRestrictedFields(t, seedManifest(t, "sysgate")))
		c.waitReady(t, ns, "secure-app", "mixed-app", "custom-seccomp")
		for _, pc := range [][2]string{{"secure-app", "app"}, {"mixed-app", "app"}, {"mixed-app", "sidecar"}, {"custom-seccomp", "app"}} {
			if got := statusField(c.hostStatus(t, c.pod(t, ns, pc[0]).Containers[pc[1]].ID), "Seccomp"); got != "2" {
				t.Errorf("%s/%s in the restricted namespace: Seccomp %s, want 2", pc[0], pc[1], got)
			}
		}
		if out, ok := c.exec(ns, "custom-seccomp", "app", "mkdir", "/tmp/test"); ok || !strings.Contains(out, "Operation not permitted") {
			t.Errorf("custom-seccomp in the restricted namespace: mkdir: %v %s", ok, out)
		}

		for _, tc := range []struct{ name, seccomp, want string }{
			{"unconfined", "{type: Unconfined}", `must not set securityContext.seccompProfile.type to "Unconfined"`},
			{"unset", "", `must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`},
		} {
			p := testPod{Name: tc.name, RuntimeClass: "sysgate", Seccomp: tc.seccomp}
			manifest := p.yaml()
			if tc.seccomp == "" {
				manifest += "    securityContext:\n"
			}
			manifest += restrictedFields
			out, stderr, err := c.kubectlIn(manifest, "apply", "-n", ns, "-f", "-")
			t.Logf("restricted, %s: %s%s", tc.name, out, stderr)
			if err == nil || !strings.Contains(stderr, "violates PodSecurity \"restricted:latest\"") || !strings.Contains(stderr, tc.want) {
				t.Errorf("%s Pod in a restricted namespace: %v %s%s; want %q", tc.name, err, out, stderr, tc.want)
			}
		}
	})
}
