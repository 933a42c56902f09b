package deploy

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestUninstallerMatchesInstaller: deploy/uninstall.yaml reaches exactly
// what the installer reaches (the same host paths, ConfigMaps, service
// account, image and privileges), and runs uninstall.sh from the
// installer's ConfigMap. A volume added to one and not the other would
// leave files the uninstaller cannot see, or let it reach further.
func TestUninstallerMatchesInstaller(t *testing.T) {
	o := load(t)
	in, un := o.daemonSet(t, "sysgate-installer").Spec.Template.Spec, o.daemonSet(t, "sysgate-uninstaller").Spec.Template.Spec
	if !reflect.DeepEqual(in.Volumes, un.Volumes) {
		t.Errorf("volumes differ:\ninstaller   %+v\nuninstaller %+v", in.Volumes, un.Volumes)
	}
	if !reflect.DeepEqual(in.InitContainers[0].VolumeMounts, un.InitContainers[0].VolumeMounts) {
		t.Errorf("init container mounts differ:\ninstaller   %+v\nuninstaller %+v", in.InitContainers[0].VolumeMounts, un.InitContainers[0].VolumeMounts)
	}
	for what, pair := range map[string][2]any{
		"service account":  {in.ServiceAccountName, un.ServiceAccountName},
		"token automount":  {in.AutomountServiceAccountToken, un.AutomountServiceAccountToken},
		"hostPID":          {in.HostPID, un.HostPID},
		"hostNetwork":      {in.HostNetwork, un.HostNetwork},
		"tolerations":      {in.Tolerations, un.Tolerations},
		"node selector":    {in.NodeSelector, un.NodeSelector},
		"image":            {in.InitContainers[0].Image, un.InitContainers[0].Image},
		"security context": {in.InitContainers[0].SecurityContext, un.InitContainers[0].SecurityContext},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			t.Errorf("%s: installer %+v, uninstaller %+v", what, pair[0], pair[1])
		}
	}
	cmd := un.InitContainers[0].Command
	if len(cmd) != 2 || cmd[1] != "/config/containerd/uninstall.sh" || o.configMaps["sysgate-containerd"].Data["uninstall.sh"] == "" {
		t.Errorf("the uninstaller runs %v; want /bin/sh /config/containerd/uninstall.sh from ConfigMap sysgate-containerd", cmd)
	}
	for _, c := range un.Containers {
		for _, m := range c.VolumeMounts {
			t.Errorf("container %s, which stays running, mounts %s", c.Name, m.Name)
		}
	}
}

// TestUninstallScript: on a fake host holding a containerd config, a
// policy-free /etc/sysgate and an unrelated profile, install.sh and then
// uninstall.sh (the real sysgate, nsenter and kubectl stubbed) leave every
// file as it was: list, modes and contents. The labels go first, containerd
// restarts once for each, the helper is disabled and stopped, and a second
// uninstall finds nothing to do.
func TestUninstallScript(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	o := load(t)
	dir := t.TempDir()
	sysgate := filepath.Join(dir, "sysgate-built")
	if out, err := exec.Command("go", "build", "-o", sysgate, "../cmd/sysgate").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	n := stageNode(t, o, sysgate, "/etc/sysgate", "/var/lib/sysgate", "/var/lib/kubelet/seccomp/other", "/var/log/sysgate", "/var/cache/sysgate")
	host, img, cfgDir, stubs, calls := n.host, n.img, n.cfgDir, n.stubs, n.calls
	must(t, os.WriteFile(filepath.Join(host, "etc/containerd/config.toml"), []byte("version = 3\n[plugins.'io.containerd.cri.v1.images'.pinned_images]\n  sandbox = 'registry.k8s.io/pause:3.10'\n"), 0o600))
	must(t, os.WriteFile(filepath.Join(host, "var/lib/kubelet/seccomp/other/keep.json"), []byte(`{"defaultAction":"SCMP_ACT_ALLOW"}`), 0o644))
	must(t, os.WriteFile(filepath.Join(host, "usr/local/bin/other-tool"), []byte("not sysgate's"), 0o755))
	run := func(script string) string {
		t.Helper()
		os.Remove(calls)
		cmd := exec.Command("sh", filepath.Join(cfgDir, "containerd", script))
		cmd.Env = append(os.Environ(), "PATH="+stubs+":"+os.Getenv("PATH"), "SYSGATE_HOST="+host,
			"SYSGATE_IMAGE_BIN="+img, "SYSGATE_INSTALL_CONFIG="+cfgDir, "NODE_NAME=node-1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
		got, _ := os.ReadFile(calls)
		return string(got)
	}
	before := fileTree(t, host)
	run("install.sh")
	// What the helper and the decision log leave behind on a real node.
	must(t, os.MkdirAll(filepath.Join(host, "var/cache/sysgate/bpf/ab"), 0o700))
	must(t, os.WriteFile(filepath.Join(host, "var/cache/sysgate/bpf/ab/cd.bpf"), []byte("filter"), 0o600))
	must(t, os.WriteFile(filepath.Join(host, "var/log/sysgate/decisions.jsonl"), []byte("{}\n"), 0o600))
	must(t, os.WriteFile(filepath.Join(host, "var/log/sysgate/decisions.jsonl.1"), []byte("{}\n"), 0o600))

	got := run("uninstall.sh")
	if after := fileTree(t, host); !reflect.DeepEqual(after, before) {
		t.Errorf("the host after install.sh and uninstall.sh:\n%s\nwant as before:\n%s", after, before)
	}
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "kubectl label node node-1 sysgate.io/handler-sysgate- sysgate.io/handler-sysgate-shim- sysgate.io/nri-") {
		t.Errorf("the labels must go first:\n%s", got)
	}
	for _, call := range []string{"systemctl restart containerd", "systemctl disable --now sysgate-helper.service", "systemctl daemon-reload"} {
		if n := strings.Count(got, "nsenter -t 1 -m -u -i -n -p -- "+call); n != 1 {
			t.Errorf("%q ran %d times, want once:\n%s", call, n, got)
		}
	}
	if got := run("uninstall.sh"); strings.Contains(got, "restart") || strings.Contains(got, "disable") {
		t.Errorf("a second uninstall restarted or disabled something:\n%s", got)
	}
	if after := fileTree(t, host); !reflect.DeepEqual(after, before) {
		t.Errorf("the host after a second uninstall.sh:\n%s\nwant:\n%s", after, before)
	}
}

// fileTree is every path under root with its type, mode and content hash.
type tree map[string]string

func (tr tree) String() string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(tr)) {
		fmt.Fprintf(&b, "  %s %s\n", k, tr[k])
	}
	return b.String()
}

func fileTree(t *testing.T, root string) tree {
	t.Helper()
	out := tree{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		desc := info.Mode().String()
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" %x", sha256.Sum256(data))
		}
		out[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
