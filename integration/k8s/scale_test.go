package k8s

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sysgate/sysgate/integration/nodekit"
)

// scaleClasses are the kinds of Pod the scale test mixes: sysgate's two
// handlers, each with the field set to RuntimeDefault, to the seed's
// Localhost profile, or unset (the node default).
var scaleClasses = []struct {
	handler, seccomp, source, typ string
}{
	{"sysgate", "{type: RuntimeDefault}", "spec", "RuntimeDefault"},
	{"sysgate-shim", "{type: Localhost, localhostProfile: profiles/audit.json}", "spec", ""},
	{"sysgate", "", "node default", "RuntimeDefault"},
	{"sysgate-shim", "{type: RuntimeDefault}", "spec", "RuntimeDefault"},
	{"sysgate", "{type: Localhost, localhostProfile: profiles/audit.json}", "spec", ""},
}

// TestHundredPods applies 100 Pods in one `kubectl apply` (the kubelet's
// max-pods is 110) and checks every one: Running, Seccomp: 2 in the
// host's /proc, and a decision in sysgate's log with the source its
// profile field implies and the same digest as the other Pods of its
// kind. The Localhost ones also block mkdir, checked in a sample.
func TestHundredPods(t *testing.T) {
	c := requireCluster(t)
	if testing.Short() {
		t.Skip("100 Pods take minutes")
	}
	// Room for 100 under max-pods: the Pods of earlier tests must be gone.
	if err := waitFor(4*time.Minute, func() (bool, string) {
		out, _, err := c.kubectl("get", "pods", "-A", "-o", "name")
		n := len(strings.Fields(out))
		return err == nil && n == 0, fmt.Sprintf("%d Pods left from earlier tests", n)
	}); err != nil {
		t.Fatal(err)
	}
	ns := c.namespace(t, "hundred")
	const n = 100
	var manifest strings.Builder
	for i := 0; i < n; i++ {
		k := scaleClasses[i%len(scaleClasses)]
		if i > 0 {
			manifest.WriteString("---\n")
		}
		manifest.WriteString(testPod{Name: fmt.Sprintf("pod-%03d", i), RuntimeClass: k.handler, PodSeccomp: k.seccomp}.yaml())
	}
	start := time.Now()
	c.applyIn(t, ns, manifest.String())
	if out, stderr, err := c.kubectl("wait", "-n", ns, "--for=condition=Ready", "pod", "--all", "--timeout=15m"); err != nil {
		pods, _, _ := c.kubectl("get", "pods", "-n", ns, "-o", "wide")
		t.Fatalf("100 Pods not Ready: %v\n%s%s\n%s", err, out, stderr, pods)
	}
	t.Logf("100 Pods Ready %v after kubectl apply", time.Since(start).Round(time.Second))

	var list struct {
		Items []struct {
			Metadata struct{ Name string } `json:"metadata"`
			Status   struct {
				ContainerStatuses []struct {
					ContainerID string `json:"containerID"`
				} `json:"containerStatuses"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(c.mustKubectl(t, "get", "pods", "-n", ns, "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != n {
		t.Fatalf("%d Pods listed, want %d", len(list.Items), n)
	}
	decisions, err := nodekit.ReadDecisions(c.decisionLog)
	if err != nil {
		t.Fatal(err)
	}
	digests := map[int]string{} // scale class -> the digest its Pods share
	for _, item := range list.Items {
		var i int
		fmt.Sscanf(item.Metadata.Name, "pod-%03d", &i)
		k := scaleClasses[i%len(scaleClasses)]
		if len(item.Status.ContainerStatuses) != 1 {
			t.Errorf("%s: container statuses %+v", item.Metadata.Name, item.Status.ContainerStatuses)
			continue
		}
		id := strings.TrimPrefix(item.Status.ContainerStatuses[0].ContainerID, "containerd://")
		if got := statusField(c.hostStatus(t, id), "Seccomp"); got != "2" {
			t.Errorf("%s (%s, %q): Seccomp %s, want 2", item.Metadata.Name, k.handler, k.seccomp, got)
		}
		d, ok := decisions[id]
		if !ok || d.Source != k.source || d.Container.Pod != item.Metadata.Name || d.Container.Namespace != ns || (k.typ != "" && string(d.Type) != k.typ) {
			t.Errorf("%s (%s, %q): decision %v %+v, want source %q", item.Metadata.Name, k.handler, k.seccomp, ok, d, k.source)
			continue
		}
		if want, seen := digests[i%len(scaleClasses)]; seen && want != d.Digest {
			t.Errorf("%s: digest %s, other Pods of its kind %s", item.Metadata.Name, d.Digest, want)
		}
		digests[i%len(scaleClasses)] = d.Digest
	}
	// Localhost blocks mkdir, RuntimeDefault does not: one Pod of each kind.
	for i := range scaleClasses {
		name := fmt.Sprintf("pod-%03d", i)
		out, ok := c.exec(ns, name, "app", "mkdir", "/tmp/test")
		blocked := strings.Contains(scaleClasses[i].seccomp, "Localhost")
		if blocked != (!ok && strings.Contains(out, "Operation not permitted")) || (!blocked && !ok) {
			t.Errorf("%s: mkdir: ok %v %q (blocked wanted: %v)", name, ok, out, blocked)
		}
	}
	// The namespace goes at once: later tests need room under max-pods.
	c.kubectl("delete", "pods", "--all", "-n", ns, "--grace-period=0", "--force", "--wait=false")
}
