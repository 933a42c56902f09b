package k8s

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sysgate/sysgate/integration/nodekit"
	"github.com/sysgate/sysgate/spec"
)

// namespace creates a namespace for one test, with labels, and deletes it
// (without waiting) when the test ends.
func (c *cluster) namespace(t testing.TB, name string, labels ...string) string {
	t.Helper()
	manifest := fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", name)
	if len(labels) > 0 {
		manifest += "  labels:\n"
		for _, l := range labels {
			k, v, _ := strings.Cut(l, "=")
			manifest += fmt.Sprintf("    %s: %q\n", k, v)
		}
	}
	c.apply(t, manifest)
	if err := waitFor(time.Minute, func() (bool, string) {
		out, stderr, err := c.kubectl("get", "serviceaccount", "default", "-n", name, "-o", "name")
		return err == nil && strings.TrimSpace(out) != "", stderr
	}); err != nil {
		t.Fatalf("namespace %s has no default ServiceAccount: %v", name, err)
	}
	t.Cleanup(func() {
		c.kubectl("delete", "namespace", name, "--wait=false")
		c.kubectl("delete", "pods", "--all", "-n", name, "--grace-period=0", "--force", "--wait=false")
	})
	return name
}

// waitReady waits until the Pods are Ready; on failure it shows what
// `kubectl describe` says about them.
func (c *cluster) waitReady(t testing.TB, ns string, pods ...string) {
	t.Helper()
	args := []string{"wait", "-n", ns, "--for=condition=Ready", "--timeout=4m"}
	for _, p := range pods {
		args = append(args, "pod/"+p)
	}
	if out, stderr, err := c.kubectl(args...); err != nil {
		describe, _, _ := c.kubectl(append([]string{"describe", "-n", ns, "pod"}, pods...)...)
		t.Fatalf("kubectl wait: %v\n%s%s\n%s", err, out, stderr, describe)
	}
}

// podInfo is what the tests read of a Pod's status.
type podInfo struct {
	Phase      string
	Containers map[string]containerInfo // by name
}

type containerInfo struct {
	ID      string // containerd's id, without "containerd://"
	Ready   bool
	Waiting struct{ Reason, Message string }
}

func (c *cluster) pod(t testing.TB, ns, name string) podInfo {
	t.Helper()
	var p struct {
		Status struct {
			Phase             string `json:"phase"`
			ContainerStatuses []struct {
				Name        string `json:"name"`
				ContainerID string `json:"containerID"`
				Ready       bool   `json:"ready"`
				State       struct {
					Waiting *struct{ Reason, Message string } `json:"waiting"`
				} `json:"state"`
			} `json:"containerStatuses"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(c.mustKubectl(t, "get", "pod", "-n", ns, name, "-o", "json")), &p); err != nil {
		t.Fatal(err)
	}
	info := podInfo{Phase: p.Status.Phase, Containers: map[string]containerInfo{}}
	for _, s := range p.Status.ContainerStatuses {
		ci := containerInfo{ID: strings.TrimPrefix(s.ContainerID, "containerd://"), Ready: s.Ready}
		if s.State.Waiting != nil {
			ci.Waiting = *s.State.Waiting
		}
		info.Containers[s.Name] = ci
	}
	return info
}

// observed is one running container seen from every side.
type observed struct {
	HostSeccomp string // Seccomp: of /proc/<pid>/status, read on the host
	ExecSeccomp string // Seccomp: of /proc/1/status through kubectl exec
	Mkdir       string // kubectl exec ... mkdir /tmp/test, its output
	MkdirOK     bool
	Decision    spec.DecisionRecord
	HasDecision bool // sysgate decided for this container (not so under plain runc)
}

func (o observed) mkdirEPERM() bool {
	return !o.MkdirOK && strings.Contains(o.Mkdir, "Operation not permitted")
}

func (c *cluster) observe(t testing.TB, ns, pod, container string) observed {
	t.Helper()
	info := c.pod(t, ns, pod)
	ci, ok := info.Containers[container]
	if !ok || ci.ID == "" {
		t.Fatalf("%s/%s has no container %s: %+v", ns, pod, container, info)
	}
	var o observed
	o.HostSeccomp = statusField(c.hostStatus(t, ci.ID), "Seccomp")
	out, _ := c.exec(ns, pod, container, "cat", "/proc/1/status")
	o.ExecSeccomp = statusField(out, "Seccomp")
	o.Mkdir, o.MkdirOK = c.exec(ns, pod, container, "mkdir", "/tmp/test")
	decisions, err := nodekit.ReadDecisions(c.decisionLog)
	if err != nil {
		t.Fatal(err)
	}
	o.Decision, o.HasDecision = decisions[ci.ID]
	return o
}

// exec runs a command in a container through kubectl exec, with the
// command's output and kubectl's error text together, as a user sees them.
func (c *cluster) exec(ns, pod, container string, cmd ...string) (string, bool) {
	out, stderr, err := c.kubectl(append([]string{"exec", "-n", ns, pod, "-c", container, "--"}, cmd...)...)
	return out + stderr, err == nil
}

// hostStatus is /proc/<pid>/status of the container's first process, read
// on the host (not through the container, which the filter could lie to).
func (c *cluster) hostStatus(t testing.TB, id string) string {
	t.Helper()
	out, err := c.crictl("inspect", "-o", "go-template", "--template", "{{.info.pid}}", id)
	if err != nil {
		t.Fatalf("crictl inspect %s: %v\n%s", id, err, out)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("crictl inspect %s: pid %q", id, out)
	}
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func statusField(status, key string) string {
	for _, line := range strings.Split(status, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// describe is `kubectl describe pod`, what a user reads when a Pod does
// not start.
func (c *cluster) describe(ns, pod string) string {
	out, stderr, _ := c.kubectl("describe", "pod", "-n", ns, pod)
	return out + stderr
}

// waitDescribe waits until `kubectl describe pod` says want (an event or a
// waiting reason) and returns what it said.
func (c *cluster) waitDescribe(t testing.TB, ns, pod string, want ...string) string {
	t.Helper()
	var last string
	err := waitFor(3*time.Minute, func() (bool, string) {
		last = c.describe(ns, pod)
		for _, w := range want {
			if !strings.Contains(last, w) {
				return false, "missing " + strconvQuote(w)
			}
		}
		return true, ""
	})
	if err != nil {
		t.Fatalf("kubectl describe pod -n %s %s: %v\n%s", ns, pod, err, last)
	}
	return last
}

func strconvQuote(s string) string { return strconv.Quote(s) }
