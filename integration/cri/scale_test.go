package cri

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sysgate/sysgate/integration/nodekit"
	"github.com/sysgate/sysgate/spec"
)

// scaleKinds are the Pods of the concurrency test, one in five of each.
var scaleKinds = []struct {
	name string
	pod  func(name string) pod
	want func(f flavor) expect
}{
	{"field-runtimedefault", func(n string) pod { return pod{Name: n, Seccomp: runtimeDefault} },
		func(f flavor) expect {
			return expect{filtered: true, rendered: true, source: "spec", typ: f.renderedDefaultType}
		}},
	{"field-localhost", func(n string) pod { return pod{Name: n, Seccomp: auditProfile} },
		func(flavor) expect { return wantRenderedAudit }},
	{"annotation-localhost", func(n string) pod {
		return pod{Name: n, Annotations: map[string]string{spec.AnnotationPodSeccomp: "localhost/profiles/audit.json"}}
	}, func(flavor) expect {
		return expect{filtered: true, mkdirBlocked: true, source: "pod annotation", typ: "Localhost"}
	}},
	{"node-default", func(n string) pod { return pod{Name: n} },
		func(flavor) expect { return expect{filtered: true, source: "node default", typ: "RuntimeDefault"} }},
	{"annotation-unconfined", func(n string) pod {
		return pod{Name: n, Annotations: map[string]string{spec.AnnotationPodSeccomp: "unconfined"}}
	}, func(flavor) expect { return expect{source: "pod annotation", typ: "Unconfined"} }},
}

const scalePods = 50

// TestFiftyPods creates 50 Pods at once on each sysgate handler, checks
// that every container runs with the profile its Pod asked for, removes
// them and checks that nothing is left: no Pod, container or task in
// containerd, no shim process, no mount, no bundle or runc state directory.
func TestFiftyPods(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, d *daemon) {
		for _, h := range sysgateHandlers(d) {
			t.Run(h, func(t *testing.T) { fiftyPods(t, d, h) })
		}
	})
}

func fiftyPods(t *testing.T, d *daemon, handler string) {
	type result struct {
		kind int
		pod  runningPod
		err  error
	}
	results := make([]result, scalePods)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range scalePods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kind := i % len(scaleKinds)
			p := scaleKinds[kind].pod(fmt.Sprintf("scale-%s-%d", scaleKinds[kind].name, i))
			p.Containers = []container{{Name: "app"}}
			rp, err := d.runPod(t, handler, p)
			results[i] = result{kind, rp, err}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	t.Logf("%s/%s: %d Pods (sandbox + container each) created and started concurrently in %v (%.0f ms per Pod)",
		d.flavor.name, handler, scalePods, elapsed.Round(time.Millisecond), float64(elapsed.Milliseconds())/scalePods)

	decisions := d.decisions(t)
	var ids []string
	for i, r := range results {
		if r.err != nil {
			t.Errorf("Pod %d: %v", i, r.err)
			continue
		}
		ids = append(ids, r.pod.ID, r.pod.Containers["app"])
		if sb := decisions[r.pod.ID]; sb.Source != "spec" {
			t.Errorf("Pod %d sandbox: %+v", i, sb)
		}
		// With a helper, it prepares every create of the BinaryName
		// handler: none of these has an error or a warning to hand back.
		if d.flavor.helper && handler == handlerSysgate {
			for _, id := range []string{r.pod.ID, r.pod.Containers["app"]} {
				if via := decisions[id].Via; via != "helper" {
					t.Errorf("Pod %d: %s was prepared by %q, want the helper", i, id, via)
				}
			}
		}
	}
	sem := make(chan struct{}, 8)
	for i, r := range results {
		if r.err != nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			checkScaled(t, d, fmt.Sprintf("Pod %d (%s)", i, scaleKinds[r.kind].name), r.pod.Containers["app"], scaleKinds[r.kind].want(d.flavor), decisions)
		}()
	}
	wg.Wait()

	start = time.Now()
	for _, r := range results {
		if r.pod.ID == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, stderr, err := d.crictlErr("rmp", "-f", r.pod.ID); err != nil {
				t.Errorf("rmp %s: %v %s", r.pod.ID, err, stderr)
			}
		}()
	}
	wg.Wait()
	t.Logf("removed in %v", time.Since(start).Round(time.Millisecond))
	d.assertNothingLeft(t, ids)
}

// checkScaled is check without the slower exec probes: /proc of the
// container's process, the bundle, containerd's spec and sysgate's
// decision, plus the seed's mkdir.
func checkScaled(t *testing.T, d *daemon, name, id string, want expect, decisions map[string]decisionRecord) {
	out, stderr, err := d.crictlErr("inspect", "-o", "go-template", "--template", "{{.info.pid}}", id)
	pid, perr := strconv.Atoi(strings.TrimSpace(out))
	if err != nil || perr != nil {
		t.Errorf("%s: inspect: %v %v %s", name, err, perr, stderr)
		return
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	mode := "0"
	if want.filtered {
		mode = "2"
	}
	if got := statusField(string(status), "Seccomp"); got != mode {
		t.Errorf("%s: /proc/%d/status Seccomp %s, want %s", name, pid, got, mode)
	}
	data, err := os.ReadFile(filepath.Join(d.bundleDir(id), "config.json"))
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	bundleDigest := ""
	if p := parseSeccomp(t, data); p != nil {
		bundleDigest = profileDigest(p)
	}
	dec := decisions[id]
	if dec.Source != want.source || dec.Type != want.typ || dec.Digest != bundleDigest {
		t.Errorf("%s: sysgate decided %+v, bundle digest %q; want %s/%s", name, dec, bundleDigest, want.source, want.typ)
	}
	msg, ok := d.exec(id, "mkdir", "/tmp/test")
	if blocked := !ok && strings.Contains(msg, "Operation not permitted"); blocked != want.mkdirBlocked {
		t.Errorf("%s: mkdir blocked=%v (%q), want %v", name, blocked, msg, want.mkdirBlocked)
	}
}

// assertNothingLeft checks every place a Pod leaves state. Shims exit
// shortly after their last task is deleted, so their absence is polled.
func (d *daemon) assertNothingLeft(t *testing.T, ids []string) {
	t.Helper()
	if out := strings.TrimSpace(d.crictl(t, "pods", "-q")); out != "" {
		t.Errorf("Pods left: %s", out)
	}
	if out := strings.TrimSpace(d.crictl(t, "ps", "-a", "-q")); out != "" {
		t.Errorf("containers left: %s", out)
	}
	if out := strings.TrimSpace(d.ctr(t, "containers", "ls", "-q")); out != "" {
		t.Errorf("containerd containers left: %s", out)
	}
	if out := strings.TrimSpace(d.ctr(t, "tasks", "ls", "-q")); out != "" {
		t.Errorf("containerd tasks left: %s", out)
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(nodekit.ShimPids(d.sock)) > 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if pids := nodekit.ShimPids(d.sock); len(pids) > 0 {
		t.Errorf("shim processes left: %v", pids)
	}
	if m := nodekit.MountsUnder(d.dir); len(m) > 0 {
		t.Errorf("mounts left: %v", m)
	}
	for _, dir := range []string{
		filepath.Join(d.state, "io.containerd.runtime.v2.task", "k8s.io"),
		filepath.Join(d.state, "io.containerd.grpc.v1.cri", "sandboxes"),
		filepath.Join(d.root, "io.containerd.grpc.v1.cri", "sandboxes"),
		filepath.Join(d.root, "io.containerd.grpc.v1.cri", "containers"),
	} {
		if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			t.Errorf("%s still holds %d entries (bundles or Pod state)", dir, len(entries))
		}
	}
	for _, id := range ids {
		// The runc shim's runc root.
		if _, err := os.Stat(filepath.Join("/run/containerd/runc/k8s.io", id)); err == nil {
			t.Errorf("runc state of %s left", id)
		}
	}
}
