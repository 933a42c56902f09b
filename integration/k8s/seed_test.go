package k8s

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// handlers are the RuntimeClasses the node offers: plain runc, and
// sysgate's two (deploy/runtimeclass.yaml).
var handlers = []string{"runc", "sysgate", "sysgate-shim"}

// seedManifest is testdata/seed-pods.yaml, the seed's Pods as written,
// with the only changes the issue allows: the images (no registry here)
// and a runtimeClassName. It fails the test if the file no longer holds
// the seed's images, so the replacement cannot silently do nothing.
func seedManifest(t testing.TB, runtimeClass string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/seed-pods.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if strings.Count(s, "image: nginx:1.27") != 3 || strings.Count(s, "image: busybox:1.36") != 1 || strings.Count(s, "\nspec:\n") != 3 {
		t.Fatalf("testdata/seed-pods.yaml is not the seed's three Pods any more:\n%s", s)
	}
	s = strings.ReplaceAll(s, "image: nginx:1.27", "image: "+appImage)
	s = strings.ReplaceAll(s, "image: busybox:1.36", "image: "+busyboxImage)
	return strings.ReplaceAll(s, "\nspec:\n", "\nspec:\n  runtimeClassName: "+runtimeClass+"\n")
}

// TestSeedPods applies the seed's Pods through kubectl on each handler and
// checks what the seed says: every container filtered (Seccomp: 2, seen on
// the host and through kubectl exec), the Localhost profiles/audit.json
// blocking mkdir with "Operation not permitted" where the Pod or the
// container asks for it, and RuntimeDefault letting it run. On sysgate's
// handlers each container has a decision, taken from the profile the
// kubelet and containerd rendered (source "spec").
func TestSeedPods(t *testing.T) {
	c := requireCluster(t)
	for _, h := range handlers {
		t.Run(h, func(t *testing.T) {
			ns := c.namespace(t, "seed-"+h)
			c.applyIn(t, ns, seedManifest(t, h))
			c.waitReady(t, ns, "secure-app", "mixed-app", "custom-seccomp")

			// The seed's own verification step.
			got := c.mustKubectl(t, "get", "pod", "-n", ns, "secure-app", "-o", "jsonpath={.spec.securityContext.seccompProfile}")
			if got != `{"type":"RuntimeDefault"}` {
				t.Errorf("secure-app's seccompProfile: %s", got)
			}
			for _, tc := range []struct {
				pod, container string
				mkdirBlocked   bool
			}{
				{"secure-app", "app", false},
				{"mixed-app", "app", false},
				{"mixed-app", "sidecar", true},
				{"custom-seccomp", "app", true},
			} {
				o := c.observe(t, ns, tc.pod, tc.container)
				t.Logf("%-8s %s/%s: host Seccomp %s, exec Seccomp %s, mkdir %q, decision %+v", h, tc.pod, tc.container, o.HostSeccomp, o.ExecSeccomp, strings.TrimSpace(o.Mkdir), o.Decision)
				if o.HostSeccomp != "2" || o.ExecSeccomp != "2" {
					t.Errorf("%s/%s: Seccomp %s on the host, %s through exec; want 2", tc.pod, tc.container, o.HostSeccomp, o.ExecSeccomp)
				}
				if tc.mkdirBlocked != o.mkdirEPERM() || (!tc.mkdirBlocked && !o.MkdirOK) {
					t.Errorf("%s/%s: mkdir /tmp/test: ok %v %q (blocked wanted: %v)", tc.pod, tc.container, o.MkdirOK, o.Mkdir, tc.mkdirBlocked)
				}
				sysgate := h != "runc"
				if o.HasDecision != sysgate || (sysgate && o.Decision.Source != "spec") {
					t.Errorf("%s/%s on %s: decision %v %+v", tc.pod, tc.container, h, o.HasDecision, o.Decision)
				}
			}
			// The seed's command, literally (no -c: the Pod's only container).
			out, stderr, err := c.kubectl("exec", "-n", ns, "custom-seccomp", "--", "mkdir", "/tmp/test")
			if err == nil || !strings.Contains(out+stderr, "mkdir: can't create directory '/tmp/test': Operation not permitted") {
				t.Errorf("kubectl exec custom-seccomp -- mkdir /tmp/test: %v\n%s%s", err, out, stderr)
			}
		})
	}
}

// testPod is a one-container Pod the tests vary.
type testPod struct {
	Name, RuntimeClass string
	PodSeccomp         string // spec.securityContext.seccompProfile, as YAML flow, e.g. "{type: Unconfined}"; "" for none
	Seccomp            string // the container's, likewise
	Privileged         bool
	Annotations        map[string]string
	Node               string // pinned to this node (sdNodeName: with its taint tolerated); "" for the scheduler's choice
}

func (p testPod) yaml() string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n", p.Name)
	if len(p.Annotations) > 0 {
		b.WriteString("  annotations:\n")
		for k, v := range p.Annotations {
			fmt.Fprintf(&b, "    %s: %q\n", k, v)
		}
	}
	b.WriteString("spec:\n  terminationGracePeriodSeconds: 1\n")
	if p.RuntimeClass != "" {
		fmt.Fprintf(&b, "  runtimeClassName: %s\n", p.RuntimeClass)
	}
	if p.Node != "" {
		fmt.Fprintf(&b, "  nodeSelector:\n    kubernetes.io/hostname: %s\n", p.Node)
		if key, _, ok := strings.Cut(sdNodeTaint, "="); ok && p.Node == sdNodeName {
			fmt.Fprintf(&b, "  tolerations:\n  - {key: %s, operator: Exists, effect: NoSchedule}\n", key)
		}
	}
	if p.PodSeccomp != "" {
		fmt.Fprintf(&b, "  securityContext:\n    seccompProfile: %s\n", p.PodSeccomp)
	}
	fmt.Fprintf(&b, "  containers:\n  - name: app\n    image: %s\n", appImage)
	if p.Seccomp != "" || p.Privileged {
		b.WriteString("    securityContext:\n")
		if p.Seccomp != "" {
			fmt.Fprintf(&b, "      seccompProfile: %s\n", p.Seccomp)
		}
		if p.Privileged {
			b.WriteString("      privileged: true\n")
		}
	}
	return b.String()
}

// TestSeccompDefault runs a Pod that sets no seccompProfile on each
// handler, with the kubelet's --seccomp-default off and then on, side by
// side. Off: plain runc runs it unconfined (the seed's warning), sysgate's
// handlers give it the node default. On: the kubelet asks for
// RuntimeDefault, every handler filters, and sysgate keeps what containerd
// rendered. The Pods started with the flag off keep their filter across the
// kubelet's restart.
func TestSeccompDefault(t *testing.T) {
	c := requireCluster(t)
	ns := c.namespace(t, "seccomp-default")
	t.Cleanup(func() {
		if err := c.startKubelet(false); err != nil {
			t.Errorf("restarting the kubelet without --seccomp-default: %v", err)
		}
	})
	type row struct {
		flag, handler string
		o             observed
	}
	var rows []row
	for _, flag := range []string{"off", "on"} {
		if flag == "on" {
			if err := c.startKubelet(true); err != nil {
				t.Fatal(err)
			}
		}
		var names []string
		for _, h := range handlers {
			p := testPod{Name: "unset-" + flag + "-" + h, RuntimeClass: h}
			c.applyIn(t, ns, p.yaml())
			names = append(names, p.Name)
		}
		c.waitReady(t, ns, names...)
		for i, h := range handlers {
			rows = append(rows, row{flag, h, c.observe(t, ns, names[i], "app")})
		}
	}
	t.Logf("a Pod with no seccompProfile:\n%-18s %-13s %-8s %-6s %s", "--seccomp-default", "handler", "Seccomp", "mkdir", "sysgate decision")
	for _, r := range rows {
		t.Logf("%-18s %-13s %-8s %-6v %s %s", r.flag, r.handler, r.o.HostSeccomp, r.o.MkdirOK, r.o.Decision.Source, r.o.Decision.Type)
		want, source := "2", "spec"
		switch {
		case r.handler == "runc" && r.flag == "off":
			want, source = "0", ""
		case r.handler == "runc":
			source = ""
		case r.flag == "off":
			source = "node default"
		}
		if r.o.HostSeccomp != want || r.o.ExecSeccomp != want || !r.o.MkdirOK {
			t.Errorf("--seccomp-default %s, %s: Seccomp %s/%s, mkdir ok %v; want Seccomp %s and mkdir allowed", r.flag, r.handler, r.o.HostSeccomp, r.o.ExecSeccomp, r.o.MkdirOK, want)
		}
		if r.o.Decision.Source != source {
			t.Errorf("--seccomp-default %s, %s: sysgate decision %+v, want source %q", r.flag, r.handler, r.o.Decision, source)
		}
	}
	// The Pods from before the restart still run with what they had.
	for _, h := range handlers {
		want := "2"
		if h == "runc" {
			want = "0"
		}
		if got := c.observe(t, ns, "unset-off-"+h, "app").HostSeccomp; got != want {
			t.Errorf("unset-off-%s after the kubelet restarted with --seccomp-default: Seccomp %s, want %s", h, got, want)
		}
	}
}
