package k8s

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sysgate/sysgate/integration/nodekit"
)

// installerManifest is deploy/daemonset.yaml (or uninstall.yaml) with the
// changes this machine makes unavoidable, each checked to apply once:
//   - the image: the locally built one (no registry);
//   - a nodeSelector for the systemd node: the shared cluster's first node
//     is this host itself, whose /usr/local/bin and /etc are shared;
//   - KUBERNETES_SERVICE_HOST/PORT for the init container's kubectl: there
//     is no kube-proxy, so the `kubernetes` Service's ClusterIP leads
//     nowhere; the Pod is hostNetwork, so the apiserver's loopback address
//     (in its serving certificate's SANs) is the same apiserver;
//   - the helper's metrics port: metrics_listen is on the host's network,
//     which other clusters on this machine share.
func installerManifest(t testing.TB, c *cluster, file string, metricsPort int) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "deploy", file))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	replace := func(old, new string, n int) {
		t.Helper()
		if got := strings.Count(s, old); got != n {
			t.Fatalf("deploy/%s holds %q %d times, want %d: the test's patch no longer fits", file, old, got, n)
		}
		s = strings.ReplaceAll(s, old, new)
	}
	replace("image: registry.example.com/sysgate/installer:v0.1.0", "image: "+installerImage, 2)
	replace("      nodeSelector:\n        kubernetes.io/os: linux\n",
		"      nodeSelector:\n        kubernetes.io/os: linux\n        kubernetes.io/hostname: "+sdNodeName+"\n", 1)
	replace("          env:\n", fmt.Sprintf("          env:\n            - {name: KUBERNETES_SERVICE_HOST, value: \"127.0.0.1\"}\n            - {name: KUBERNETES_SERVICE_PORT, value: \"%d\"}\n", c.ports.api), 1)
	if file == "daemonset.yaml" {
		replace(`metrics_listen = "0.0.0.0:9795"`, fmt.Sprintf(`metrics_listen = "127.0.0.1:%d"`, metricsPort), 1)
	}
	return s
}

// nodeTree is the node's files under the paths the installer writes:
// each path with its type, mode and content hash.
func (n *sdNode) tree(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range []string{"/usr/local/bin", "/etc/sysgate", "/etc/containerd", "/etc/systemd/system",
		"/var/lib/sysgate", "/var/lib/kubelet/seccomp", "/var/log/sysgate", "/var/cache/sysgate"} {
		root := n.path(p)
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // absent (the kubelet's seccomp dir before the install)
			}
			info, err := os.Lstat(path)
			if err != nil {
				return nil
			}
			rel, _ := filepath.Rel(root, path)
			desc := info.Mode().String()
			switch {
			case info.Mode().IsRegular():
				data, _ := os.ReadFile(path)
				desc += fmt.Sprintf(" %x", sha256.Sum256(data))
			case info.Mode()&fs.ModeSymlink != 0:
				target, _ := os.Readlink(path)
				desc += " -> " + target
			}
			out[filepath.Join(p, rel)] = desc
			return nil
		})
	}
	return out
}

func (c *cluster) nodeLabels(t testing.TB, node string) map[string]string {
	t.Helper()
	var labels map[string]string
	if err := json.Unmarshal([]byte(c.mustKubectl(t, "get", "node", node, "-o", "jsonpath={.metadata.labels}")), &labels); err != nil {
		t.Fatal(err)
	}
	return labels
}

// rollout waits until a DaemonSet's Pods are all updated and available.
func (c *cluster) rollout(t testing.TB, ds string) {
	t.Helper()
	if out, stderr, err := c.kubectl("-n", "kube-system", "rollout", "status", "daemonset/"+ds, "--timeout=4m"); err != nil {
		pods, _, _ := c.kubectl("-n", "kube-system", "describe", "pods", "-l", "app.kubernetes.io/name="+map[string]string{"sysgate-installer": "sysgate", "sysgate-uninstaller": "sysgate-uninstaller"}[ds])
		logs, _, _ := c.kubectl("-n", "kube-system", "logs", "daemonset/"+ds, "--all-containers")
		t.Fatalf("rollout of %s: %v\n%s%s\n%s\n%s", ds, err, out, stderr, pods, logs)
	}
}

// hostGuard is what the installer must never touch on this shared host:
// the paths it writes on a node, here the host's own.
func hostGuard() map[string]string {
	out := map[string]string{}
	for _, p := range []string{"/usr/local/bin/sysgate", "/usr/local/bin/sysgate-runc", "/usr/local/bin/sysgate-helper", "/usr/local/bin/containerd-shim-sysgate-v1",
		"/etc/sysgate/config.toml", "/etc/containerd/config.toml", "/etc/systemd/system/sysgate-helper.service",
		"/var/lib/sysgate/install.json", "/var/lib/kubelet/seccomp/profiles/block-mkdir.json"} {
		data, err := os.ReadFile(p)
		if err != nil {
			out[p] = "absent"
			continue
		}
		out[p] = fmt.Sprintf("%x", sha256.Sum256(data))
	}
	return out
}

// failedExit finds a non-zero exit code in a container's state.
var failedExit = regexp.MustCompile(`"exitCode":[1-9]`)

// TestInstallerDaemonSet runs deploy/daemonset.yaml for real, on a node
// whose PID 1 is systemd: kubectl apply installs sysgate (binaries, the
// ConfigMap's policy and profiles, containerd's handlers with containerd
// restarted through the node's systemd, the helper's unit), labels the
// node, and Pods run through it; a Pod running before survives the
// restart; a policy change rolled out reaches the node while running Pods
// stay as they are; an install that fails (a containerd config sysgate
// refuses) leaves the config, containerd and the labels as they were;
// deploy/uninstall.yaml leaves the node's files and
// labels as they were; the node stops leaving nothing behind.
func TestInstallerDaemonSet(t *testing.T) {
	c := requireCluster(t)
	testStart := time.Now()
	if _, err := writeInstallerImage(filepath.Join(c.dir, "images"), c.tools); err != nil {
		t.Fatal(err)
	}
	guard := hostGuard()
	n, err := startSDNode(t, c)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			if err := n.stop(); err != nil {
				t.Errorf("stopping node %s: %v", sdNodeName, err)
			}
		}
	})
	v := n.view()
	treeBefore := n.tree(t)
	labelsBefore := c.nodeLabels(t, sdNodeName)
	containerdConfig := n.path("/etc/containerd/config.toml")
	configBefore, err := os.ReadFile(containerdConfig)
	if err != nil {
		t.Fatal(err)
	}
	ns := c.namespace(t, "installer")

	// (b) A Pod on plain runc before the install.
	pre := testPod{Name: "pre-runc", RuntimeClass: "runc", PodSeccomp: "{type: RuntimeDefault}", Node: sdNodeName}
	c.applyIn(t, ns, pre.yaml())
	c.waitReady(t, ns, pre.Name)
	preRunc := c.recordSurvivors(t, v, ns, map[string]string{pre.Name: "2"})
	containerdPID := n.unitProp("containerd.service", "MainPID")

	// (a) The install.
	installPath := filepath.Join(c.dir, "installer-daemonset.yaml")
	if err := os.WriteFile(installPath, []byte(installerManifest(t, c, "daemonset.yaml", n.ports.metrics)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// After a failure too: nothing of the installer stays in the cluster.
		c.kubectl("delete", "-f", filepath.Join(c.dir, "installer-uninstall.yaml"), "--wait=false", "--ignore-not-found")
		c.kubectl("delete", "-f", installPath, "--wait=false", "--ignore-not-found")
	})
	// (a, failing first) A node whose containerd config already has a
	// handler named sysgate that sysgate did not add: `sysgate install`
	// refuses it, the init container fails with the reason in its log, and
	// the config, containerd and the node's labels stay as they were.
	conflict := append(slices.Clone(configBefore), "\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.sysgate]\n  runtime_type = 'io.containerd.runc.v2'\n"...)
	if err := os.WriteFile(containerdConfig, conflict, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if out, stderr, err := c.kubectl("apply", "-f", installPath); err != nil {
		t.Fatalf("kubectl apply -f %s: %v\n%s%s", installPath, err, out, stderr)
	}
	var installerPod string
	err = waitFor(3*time.Minute, func() (bool, string) {
		out, stderr, _ := c.kubectl("get", "pods", "-n", "kube-system", "-l", "app.kubernetes.io/name=sysgate", "-o",
			`jsonpath={.items[0].metadata.name} {.items[0].status.initContainerStatuses[0].state}{.items[0].status.initContainerStatuses[0].lastState}`)
		installerPod, _, _ = strings.Cut(out, " ")
		return failedExit.MatchString(out), out + stderr
	})
	if err != nil {
		t.Fatalf("the installer on a conflicting containerd config did not fail: %v", err)
	}
	logs, _, _ := c.kubectl("logs", "-n", "kube-system", installerPod, "-c", "install")
	t.Logf("the installer refused a conflicting containerd config (%v), its log:\n%s", time.Since(start).Round(time.Millisecond), logs)
	if !strings.Contains(logs, "exists and sysgate install has no record of adding it") {
		t.Errorf("the failed installer's log does not say why")
	}
	if after, _ := os.ReadFile(containerdConfig); string(after) != string(conflict) {
		t.Errorf("a failed install changed containerd's config:\n%s", after)
	}
	if pid := n.unitProp("containerd.service", "MainPID"); pid != containerdPID {
		t.Errorf("a failed install restarted containerd (MainPID %s -> %s)", containerdPID, pid)
	}
	if l := c.nodeLabels(t, sdNodeName); !maps.Equal(l, labelsBefore) {
		t.Errorf("a failed install labelled the node: %v", l)
	}
	// The operator fixes the node; the installer's next start succeeds.
	if err := os.WriteFile(containerdConfig, configBefore, 0o644); err != nil {
		t.Fatal(err)
	}
	c.mustKubectl(t, "delete", "pod", "-n", "kube-system", installerPod, "--wait=false")
	start = time.Now()
	c.rollout(t, "sysgate-installer")
	t.Logf("installer DaemonSet rolled out on %s in %v", sdNodeName, time.Since(start).Round(time.Millisecond))
	if pid := n.unitProp("containerd.service", "MainPID"); pid == containerdPID || pid == "0" {
		t.Errorf("containerd's MainPID %s before the install, %s after: the installer did not restart it through the node's systemd", containerdPID, pid)
	}
	if state, _ := n.systemctl("is-active", "sysgate-helper.service"); state != "active" {
		t.Errorf("sysgate-helper.service on the node: %s, want active", state)
	}
	cms := map[string]string{}
	for _, cm := range []struct{ name, key string }{{"sysgate-policy", "config.toml"}, {"sysgate-profiles", "block-mkdir.json"}, {"sysgate-containerd", "sysgate-helper.service"}} {
		cms[cm.key] = c.mustKubectl(t, "get", "configmap", "-n", "kube-system", cm.name, "-o", "go-template={{index .data \""+cm.key+"\"}}")
	}
	for nodePath, want := range map[string]string{
		"/etc/sysgate/config.toml":                           cms["config.toml"],
		"/var/lib/kubelet/seccomp/profiles/block-mkdir.json": cms["block-mkdir.json"],
		"/etc/systemd/system/sysgate-helper.service":         cms["sysgate-helper.service"],
	} {
		if data, err := os.ReadFile(n.path(nodePath)); err != nil || string(data) != want {
			t.Errorf("node %s: %v\n%s\nwant the ConfigMap's\n%s", nodePath, err, data, want)
		}
	}
	for _, b := range nodekit.Binaries {
		got, err1 := os.ReadFile(n.path("/usr/local/bin/" + b))
		want, err2 := os.ReadFile(filepath.Join(c.tools, b))
		if err1 != nil || err2 != nil || string(got) != string(want) {
			t.Errorf("node /usr/local/bin/%s is not the image's: %v %v", b, err1, err2)
		}
	}
	config, _ := os.ReadFile(containerdConfig)
	if !strings.Contains(string(config), "runtimes.sysgate]") || !strings.Contains(string(config), "runtimes.sysgate-shim]") ||
		!strings.Contains(string(config), "/usr/local/bin/sysgate-runc") {
		t.Errorf("node's containerd config after the install:\n%s", config)
	}
	labels := c.nodeLabels(t, sdNodeName)
	for _, l := range []string{"sysgate.io/handler-sysgate", "sysgate.io/handler-sysgate-shim"} {
		if labels[l] != "true" {
			t.Errorf("node label %s=%q, want true (labels %v)", l, labels[l], labels)
		}
	}
	if g := hostGuard(); !maps.Equal(g, guard) {
		t.Errorf("the installer touched this host's own files:\nbefore %v\nafter  %v", guard, g)
	}

	// (b) The Pod from before, through the installer's restart.
	preRunc.check(t, c, v)

	// (a) Pods through the installed handlers.
	var sg []string
	for _, h := range []string{"sysgate", "sysgate-shim"} {
		for _, p := range []testPod{
			{Name: "rd-" + h, RuntimeClass: h, PodSeccomp: "{type: RuntimeDefault}", Node: sdNodeName},
			{Name: "mkdir-" + h, RuntimeClass: h, Seccomp: "{type: Localhost, localhostProfile: profiles/block-mkdir.json}", Node: sdNodeName},
		} {
			c.applyIn(t, ns, p.yaml())
			sg = append(sg, p.Name)
		}
	}
	c.waitReady(t, ns, sg...)
	decisions, err := nodekit.ReadDecisions(n.path("/var/log/sysgate/decisions.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	running := map[string]string{}
	for _, p := range sg {
		st := c.podState(t, ns, p)
		rc := v.inspect(t, st.ID)
		d, ok := decisions[st.ID]
		mkdir, mkdirOK := c.exec(ns, p, "app", "mkdir", "/tmp/test")
		blocked := !mkdirOK && strings.Contains(mkdir, "Operation not permitted")
		t.Logf("%s: Seccomp %s, decision %v (%s), mkdir /tmp/test: %q", p, rc.Seccomp, ok, d.Source, strings.TrimSpace(mkdir))
		if rc.Seccomp != "2" || !ok {
			t.Errorf("%s on node %s: Seccomp %s, decision in the node's log %v; want 2 and a decision", p, sdNodeName, rc.Seccomp, ok)
		}
		if wantBlocked := strings.HasPrefix(p, "mkdir-"); blocked != wantBlocked {
			t.Errorf("%s: kubectl exec mkdir /tmp/test: %q, want blocked=%v", p, mkdir, wantBlocked)
		}
		running[p] = "2"
	}

	// (c) A policy change, rolled out.
	stillRunning := c.recordSurvivors(t, v, ns, running)
	containerdPID = n.unitProp("containerd.service", "MainPID")
	policy := cms["config.toml"]
	if !strings.Contains(policy, `unconfined = "allow"`) {
		t.Fatalf("the ConfigMap's policy has no unconfined = \"allow\" to change:\n%s", policy)
	}
	patch, _ := json.Marshal(map[string]any{"data": map[string]string{"config.toml": strings.Replace(policy, `unconfined = "allow"`, `unconfined = "deny"`, 1)}})
	c.mustKubectl(t, "patch", "configmap", "-n", "kube-system", "sysgate-policy", "--type=merge", "-p", string(patch))
	start = time.Now()
	c.mustKubectl(t, "-n", "kube-system", "rollout", "restart", "daemonset/sysgate-installer")
	c.rollout(t, "sysgate-installer")
	t.Logf("policy change rolled out in %v", time.Since(start).Round(time.Millisecond))
	if data, _ := os.ReadFile(n.path("/etc/sysgate/config.toml")); !strings.Contains(string(data), `unconfined = "deny"`) {
		t.Errorf("the node's policy after the rollout:\n%s", data)
	}
	if pid := n.unitProp("containerd.service", "MainPID"); pid != containerdPID {
		t.Errorf("containerd restarted (MainPID %s -> %s) for a policy change: the handlers did not change", containerdPID, pid)
	}
	denied := testPod{Name: "unconfined-sysgate", RuntimeClass: "sysgate", Seccomp: "{type: Unconfined}", Node: sdNodeName,
		Annotations: map[string]string{"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}}
	c.applyIn(t, ns, denied.yaml())
	d := c.waitDescribe(t, ns, denied.Name, "refusing to create", `unconfined = "deny"`)
	t.Logf("kubectl describe pod %s (excerpt):\n%s", denied.Name, excerpt(d, "deny"))
	stillRunning.check(t, c, v)

	// (d) Uninstall: the Pods on sysgate's handlers go first, then the
	// installer, then the uninstaller runs.
	c.mustKubectl(t, append([]string{"delete", "pod", "-n", ns, "--wait=true", "--timeout=3m", denied.Name}, sg...)...)
	c.mustKubectl(t, "delete", "daemonset", "-n", "kube-system", "sysgate-installer", "--wait=true", "--timeout=3m")
	waitNoPods := func(selector string) {
		t.Helper()
		if err := waitFor(3*time.Minute, func() (bool, string) {
			out, _, _ := c.kubectl("get", "pods", "-n", "kube-system", "-l", selector, "-o", "name")
			return strings.TrimSpace(out) == "", out
		}); err != nil {
			t.Fatalf("Pods %s still there: %v", selector, err)
		}
	}
	waitNoPods("app.kubernetes.io/name=sysgate")
	uninstallPath := filepath.Join(c.dir, "installer-uninstall.yaml")
	if err := os.WriteFile(uninstallPath, []byte(installerManifest(t, c, "uninstall.yaml", 0)), 0o644); err != nil {
		t.Fatal(err)
	}
	containerdPID = n.unitProp("containerd.service", "MainPID")
	start = time.Now()
	c.mustKubectl(t, "apply", "-f", uninstallPath)
	c.rollout(t, "sysgate-uninstaller")
	t.Logf("uninstaller DaemonSet rolled out in %v", time.Since(start).Round(time.Millisecond))
	c.mustKubectl(t, "delete", "-f", uninstallPath, "--wait=true", "--timeout=3m")
	waitNoPods("app.kubernetes.io/name=sysgate-uninstaller")
	if pid := n.unitProp("containerd.service", "MainPID"); pid == containerdPID {
		t.Errorf("the uninstaller did not restart containerd (MainPID %s)", pid)
	}
	if state, _ := n.systemctl("is-active", "sysgate-helper.service"); state == "active" {
		t.Errorf("sysgate-helper.service still %s after the uninstall", state)
	}
	if after, _ := os.ReadFile(containerdConfig); string(after) != string(configBefore) {
		t.Errorf("containerd's config after the uninstall:\n%s\nwant, byte for byte:\n%s", after, configBefore)
	}
	if l := c.nodeLabels(t, sdNodeName); !maps.Equal(l, labelsBefore) {
		t.Errorf("node labels after the uninstall %v, before the install %v", l, labelsBefore)
	}
	// The hostPath volumes' directories, made by the kubelet
	// (DirectoryOrCreate) where the node had none, stay, empty: the
	// uninstaller cannot remove its own mount points (docs/deploy.md).
	treeAfter := n.tree(t)
	for _, p := range []string{"/usr/local/bin", "/etc/sysgate", "/etc/containerd", "/var/lib/sysgate", "/var/lib/kubelet/seccomp", "/var/log/sysgate", "/var/cache/sysgate"} {
		if _, before := treeBefore[p]; !before && strings.HasPrefix(treeAfter[p], "d") && !slices.ContainsFunc(slices.Collect(maps.Keys(treeAfter)), func(k string) bool { return strings.HasPrefix(k, p+"/") }) {
			delete(treeAfter, p)
		}
	}
	if !maps.Equal(treeAfter, treeBefore) {
		for _, k := range slices.Sorted(maps.Keys(treeAfter)) {
			if treeBefore[k] != treeAfter[k] {
				t.Errorf("node %s after the uninstall: %s (before: %q)", k, treeAfter[k], treeBefore[k])
			}
		}
		for _, k := range slices.Sorted(maps.Keys(treeBefore)) {
			if _, ok := treeAfter[k]; !ok {
				t.Errorf("node %s gone after the uninstall (before: %s)", k, treeBefore[k])
			}
		}
	}
	t.Logf("node files compared with the snapshot before the install: %d paths before, %d after", len(treeBefore), len(treeAfter))
	if _, err := os.Lstat(n.path("/run/sysgate/helper.sock")); err == nil {
		t.Errorf("the helper's socket outlived its unit")
	}
	// The Pod from before the install, through the uninstaller's restart too.
	preRunc.check(t, c, v)
	if g := hostGuard(); !maps.Equal(g, guard) {
		t.Errorf("the installer or uninstaller touched this host's own files:\nbefore %v\nafter  %v", guard, g)
	}
	c.kubectl("delete", "-f", installPath, "--wait=false", "--ignore-not-found")

	// (e) The node stops and leaves nothing.
	pid1 := n.pid1
	start = time.Now()
	stopped = true
	if err := n.stop(); err != nil {
		t.Errorf("stopping node %s: %v", sdNodeName, err)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid1)); err == nil {
		t.Errorf("the node's systemd (host PID %d) outlived the stop", pid1)
	}
	for _, d := range cgroupDirs(n.cgroup) {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("the node's cgroup %s outlived the stop", d)
		}
	}
	t.Logf("node stopped in %v; the whole test took %v", time.Since(start).Round(time.Millisecond), time.Since(testStart).Round(time.Second))
}
