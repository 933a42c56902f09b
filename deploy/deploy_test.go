package deploy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"

	toml "github.com/pelletier/go-toml/v2"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/sysgate/sysgate/deploy/install"
	"github.com/sysgate/sysgate/shim"
	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/profile"
)

// objects is every manifest in deploy/, decoded strictly (an unknown or
// misspelt field is an error) into its Kubernetes API type.
type objects struct {
	runtimeClasses []nodev1.RuntimeClass
	daemonSets     []appsv1.DaemonSet
	configMaps     map[string]corev1.ConfigMap
	accounts       []string

	admissionPolicies []admissionv1.ValidatingAdmissionPolicy
	admissionBindings []admissionv1.ValidatingAdmissionPolicyBinding
}

func load(t *testing.T) objects {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	o := objects{configMaps: map[string]corev1.ConfigMap{}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range bytes.Split(data, []byte("\n---\n")) {
			var meta struct{ APIVersion, Kind string }
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				t.Fatalf("%s document %d: %v", f, i, err)
			}
			where := f + ": " + meta.Kind
			strict := func(v any) {
				if err := yaml.UnmarshalStrict(doc, v); err != nil {
					t.Fatalf("%s: %v", where, err)
				}
			}
			switch meta.APIVersion + " " + meta.Kind {
			case "node.k8s.io/v1 RuntimeClass":
				var rc nodev1.RuntimeClass
				strict(&rc)
				o.runtimeClasses = append(o.runtimeClasses, rc)
			case "apps/v1 DaemonSet":
				var ds appsv1.DaemonSet
				strict(&ds)
				o.daemonSets = append(o.daemonSets, ds)
			case "v1 ConfigMap":
				var cm corev1.ConfigMap
				strict(&cm)
				o.configMaps[cm.Name] = cm
			case "v1 ServiceAccount":
				var sa corev1.ServiceAccount
				strict(&sa)
				o.accounts = append(o.accounts, sa.Name)
			case "rbac.authorization.k8s.io/v1 ClusterRole":
				strict(&rbacv1.ClusterRole{})
			case "rbac.authorization.k8s.io/v1 ClusterRoleBinding":
				strict(&rbacv1.ClusterRoleBinding{})
			case "admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy":
				var p admissionv1.ValidatingAdmissionPolicy
				strict(&p)
				o.admissionPolicies = append(o.admissionPolicies, p)
			case "admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBinding":
				var b admissionv1.ValidatingAdmissionPolicyBinding
				strict(&b)
				o.admissionBindings = append(o.admissionBindings, b)
			default:
				t.Fatalf("%s document %d: unexpected %s %s; add it to this test", f, i, meta.APIVersion, meta.Kind)
			}
		}
	}
	return o
}

// daemonSet is the DaemonSet named name (installer or uninstaller).
func (o objects) daemonSet(t *testing.T, name string) appsv1.DaemonSet {
	t.Helper()
	var names []string
	for _, ds := range o.daemonSets {
		if ds.Name == name {
			return ds
		}
		names = append(names, ds.Name)
	}
	t.Fatalf("no DaemonSet %s in deploy/ (there are %v)", name, names)
	return appsv1.DaemonSet{}
}

// handlers decodes a containerd snippet and returns its runtime tables by
// name.
func handlers(t *testing.T, data []byte, version int) map[string]map[string]any {
	t.Helper()
	var cfg map[string]any
	if err := toml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("config v%d: %v", version, err)
	}
	path := []string{"plugins", "io.containerd.grpc.v1.cri", "containerd", "runtimes"}
	if version == 3 {
		path = []string{"plugins", "io.containerd.cri.v1.runtime", "containerd", "runtimes"}
	}
	node := any(cfg)
	for _, key := range path {
		m, ok := node.(map[string]any)
		if !ok || m[key] == nil {
			t.Fatalf("config v%d: no table %s", version, strings.Join(path, "."))
		}
		node = m[key]
	}
	out := map[string]map[string]any{}
	for name, v := range node.(map[string]any) {
		out[name] = v.(map[string]any)
	}
	return out
}

func snippet(t *testing.T, version int) []byte {
	name := map[int]string{2: "config-v2.toml", 3: "config-v3.toml"}[version]
	data, err := os.ReadFile(filepath.Join("containerd", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestHelperUnit: the ConfigMap's unit is deploy/systemd's, and it starts
// the helper on the socket and policy sysgate-runc uses by default.
func TestHelperUnit(t *testing.T) {
	o := load(t)
	file, err := os.ReadFile("systemd/sysgate-helper.service")
	if err != nil {
		t.Fatal(err)
	}
	if got := o.configMaps["sysgate-containerd"].Data["sysgate-helper.service"]; got != string(file) {
		t.Errorf("the ConfigMap's sysgate-helper.service differs from deploy/systemd/sysgate-helper.service:\n%s", got)
	}
	want := "ExecStart=/usr/local/bin/sysgate helper --config " + spec.DefaultPolicyPath + " --socket " + shim.DefaultHelperSocket + "\n"
	if !strings.Contains(string(file), want) {
		t.Errorf("the unit must run %q", want)
	}
}

// TestContainerdSnippets: the handlers the docs promise, with the
// annotation keys sysgate reads allowed through, and what `sysgate
// install` writes equal to the files.
func TestContainerdSnippets(t *testing.T) {
	want := map[int][]string{2: {"sysgate"}, 3: {"sysgate", "sysgate-shim"}}
	for _, v := range []int{2, 3} {
		hs := handlers(t, snippet(t, v), v)
		names := slices.Sorted(func(yield func(string) bool) {
			for n := range hs {
				if !yield(n) {
					return
				}
			}
		})
		if !slices.Equal(names, want[v]) {
			t.Errorf("config v%d handlers %v, want %v", v, names, want[v])
		}
		for name, h := range hs {
			wantType := map[string]string{"sysgate": "io.containerd.runc.v2", "sysgate-shim": "io.containerd.sysgate.v1"}[name]
			if h["runtime_type"] != wantType {
				t.Errorf("v%d %s: runtime_type %v, want %s", v, name, h["runtime_type"], wantType)
			}
			for _, key := range []string{"pod_annotations", "container_annotations"} {
				list, _ := h[key].([]any)
				for _, need := range []string{spec.AnnotationPodSeccomp, spec.AnnotationContainerSeccompPrefix + "*", spec.AnnotationRecord} {
					if !slices.Contains(list, any(need)) {
						t.Errorf("v%d %s: %s lacks %q", v, name, key, need)
					}
				}
			}
			opts, _ := h["options"].(map[string]any)
			switch name {
			case "sysgate":
				// Where install.sh puts sysgate-runc.
				if opts["BinaryName"] != "/usr/local/bin/sysgate-runc" {
					t.Errorf("v%d: BinaryName %v", v, opts["BinaryName"])
				}
			case "sysgate-shim":
				if opts != nil {
					t.Errorf("v%d: the shim handler must have no options table (containerd sends non-runc options for it)", v)
				}
			}
		}
		// What `sysgate install` (and so the DaemonSet) writes is what the
		// snippet documents.
		path := filepath.Join(t.TempDir(), "config.toml")
		must(t, os.WriteFile(path, []byte(fmt.Sprintf("version = %d\n", v)), 0o644))
		c, err := install.PlanInstall(install.Engines[0], "/", path, install.Options{Handler: install.DefaultHandler, ShimHandler: install.DefaultShimHandler, RuntimePath: install.DefaultRuntimePath}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := handlers(t, c.Next(), v); !reflect.DeepEqual(got, hs) {
			t.Errorf("sysgate install writes other handlers than deploy/containerd/config-v%d.toml:\n%v\n%v", v, got, hs)
		}
	}
}

// TestRuntimeClasses: every RuntimeClass names a handler the snippets
// register, and selects the node label install.sh sets for it.
func TestRuntimeClasses(t *testing.T) {
	o := load(t)
	hs := handlers(t, snippet(t, 3), 3)
	if len(o.runtimeClasses) == 0 {
		t.Fatal("no RuntimeClass")
	}
	script := o.configMaps["sysgate-containerd"].Data["install.sh"]
	for _, rc := range o.runtimeClasses {
		if _, ok := hs[rc.Handler]; !ok {
			t.Errorf("RuntimeClass %s: handler %q is not registered by the containerd snippets", rc.Name, rc.Handler)
		}
		label := "sysgate.io/handler-" + rc.Handler
		if rc.Scheduling == nil || rc.Scheduling.NodeSelector[label] != "true" || !strings.Contains(script, "sysgate.io/handler-$h=true") {
			t.Errorf("RuntimeClass %s: must select nodes labelled %s=true, which install.sh sets", rc.Name, label)
		}
	}
}

// TestDaemonSet: every mount has a volume, every ConfigMap volume exists,
// the installer runs the script from its ConfigMap, the policy loads and
// its profile root is the directory the profiles are installed into.
func TestDaemonSet(t *testing.T) {
	o := load(t)
	ds := o.daemonSet(t, "sysgate-installer")
	podSpec := ds.Spec.Template.Spec
	if !reflect.DeepEqual(ds.Spec.Selector.MatchLabels, ds.Spec.Template.Labels) {
		t.Errorf("selector %v does not match the template labels %v", ds.Spec.Selector.MatchLabels, ds.Spec.Template.Labels)
	}
	if !slices.Contains(o.accounts, podSpec.ServiceAccountName) {
		t.Errorf("service account %q is not defined", podSpec.ServiceAccountName)
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range podSpec.Volumes {
		volumes[v.Name] = v
		if v.ConfigMap != nil {
			if _, ok := o.configMaps[v.ConfigMap.Name]; !ok {
				t.Errorf("volume %s: ConfigMap %s is not defined", v.Name, v.ConfigMap.Name)
			}
		}
	}
	mounts := map[string]string{} // mount path -> volume
	for _, c := range append(podSpec.InitContainers, podSpec.Containers...) {
		for _, m := range c.VolumeMounts {
			if _, ok := volumes[m.Name]; !ok {
				t.Errorf("container %s mounts undefined volume %s", c.Name, m.Name)
			}
			mounts[m.MountPath] = m.Name
		}
	}
	install := podSpec.InitContainers[0]
	script := install.Command[len(install.Command)-1]
	if v := volumes[mounts[filepath.Dir(script)]]; v.ConfigMap == nil || o.configMaps[v.ConfigMap.Name].Data[filepath.Base(script)] == "" {
		t.Errorf("the installer runs %s, which no ConfigMap provides", script)
	}

	// Least privilege (issue 13, item 9): the Pod is hostPID and stays
	// running, so only the init container holds a token, and an admission
	// policy holds that token to its own node's sysgate.io/ labels.
	if podSpec.AutomountServiceAccountToken == nil || *podSpec.AutomountServiceAccountToken {
		t.Error("the Pod mounts a service account token into every container")
	}
	for _, c := range podSpec.Containers {
		for _, m := range c.VolumeMounts {
			if v := volumes[m.Name]; v.Projected != nil {
				t.Errorf("container %s, which stays running, mounts the token volume %s", c.Name, m.Name)
			}
		}
	}
	if len(o.admissionPolicies) != 1 || len(o.admissionBindings) != 1 || o.admissionBindings[0].Spec.PolicyName != o.admissionPolicies[0].Name ||
		!slices.Contains(o.admissionBindings[0].Spec.ValidationActions, admissionv1.Deny) {
		t.Fatalf("want one ValidatingAdmissionPolicy bound with Deny: %+v %+v", o.admissionPolicies, o.admissionBindings)
	}
	vap := o.admissionPolicies[0].Spec
	var exprs []string
	for _, v := range vap.Validations {
		exprs = append(exprs, v.Expression)
	}
	all := strings.Join(exprs, "\n")
	for _, want := range []string{"authentication.kubernetes.io/node-name", "object.spec == oldObject.spec", "sysgate.io/"} {
		if !strings.Contains(all, want) {
			t.Errorf("the admission policy does not check %q", want)
		}
	}
	if len(vap.MatchConditions) != 1 || !strings.Contains(vap.MatchConditions[0].Expression, "system:serviceaccount:kube-system:"+podSpec.ServiceAccountName) {
		t.Errorf("the admission policy does not match the installer's service account: %+v", vap.MatchConditions)
	}

	policyText := o.configMaps["sysgate-policy"].Data["config.toml"]
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(policyText), 0o644); err != nil {
		t.Fatal(err)
	}
	policy, err := spec.LoadPolicy(path)
	if err != nil {
		t.Fatalf("the ConfigMap's policy does not load: %v", err)
	}
	seccompHost := volumes[mounts["/host/var/lib/kubelet/seccomp"]]
	if seccompHost.HostPath == nil || seccompHost.HostPath.Path != policy.ProfileRoot {
		t.Errorf("profiles go to %v but the policy's profile_root is %s", seccompHost.HostPath, policy.ProfileRoot)
	}
	for name, text := range o.configMaps["sysgate-profiles"].Data {
		if _, err := profile.Parse([]byte(text)); err != nil {
			t.Errorf("profile %s: %v", name, err)
		}
	}
}

// TestInstallScript runs install.sh against a fake host, with nsenter and
// kubectl replaced by stubs that record their calls and the image's sysgate
// the real one: binaries, policy and profiles land where the policy expects
// them, containerd's config gets the handlers once through `sysgate
// install` and is restarted once, a second run changes nothing, another
// sysgate-runc path replaces the handlers, a version 3 config gets both
// handler labels, and `sysgate uninstall --root` on the record leaves the
// config as it was, byte for byte.
func TestInstallScript(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	o := load(t)
	sysgate := filepath.Join(t.TempDir(), "sysgate")
	if out, err := exec.Command("go", "build", "-o", sysgate, "../cmd/sysgate").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, c := range []struct {
		name     string
		existing string // containerd config before
		version  int
		labels   []string
	}{
		{"no containerd config (containerd 1.x defaults)", "", 2, []string{"sysgate"}},
		{"version 2 config", "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"registry.k8s.io/pause:3.9\"\n", 2, []string{"sysgate"}},
		{"version 3 config", "version = 3\n[plugins.'io.containerd.cri.v1.images'.pinned_images]\n  sandbox = 'registry.k8s.io/pause:3.10'\n", 3, []string{"sysgate", "sysgate-shim"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := stageNode(t, o, sysgate)
			host, img, cfgDir, stubs, calls := n.host, n.img, n.cfgDir, n.stubs, n.calls
			cfg := filepath.Join(host, "etc/containerd/config.toml")
			wantMode, wantUID := os.FileMode(0o644), os.Getuid()
			if c.existing != "" {
				// containerd configs can hold registry credentials: 0600,
				// and as root another owner, both kept (issue 13, item 9).
				must(t, os.WriteFile(cfg, []byte(c.existing), 0o600))
				wantMode = 0o600
				if os.Geteuid() == 0 {
					wantUID = 1234
					must(t, os.Chown(cfg, wantUID, wantUID))
				}
			}
			run := func(env ...string) {
				t.Helper()
				cmd := exec.Command("sh", filepath.Join(cfgDir, "containerd", "install.sh"))
				cmd.Env = append(append(os.Environ(), "PATH="+stubs+":"+os.Getenv("PATH"), "SYSGATE_HOST="+host,
					"SYSGATE_IMAGE_BIN="+img, "SYSGATE_INSTALL_CONFIG="+cfgDir, "NODE_NAME=node-1"), env...)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("install.sh: %v\n%s", err, out)
				}
			}
			run()
			run()
			got, _ := os.ReadFile(calls)
			if n := strings.Count(string(got), "systemctl restart containerd"); n != 1 {
				t.Errorf("containerd restarted %d times over two runs, want once:\n%s", n, got)
			}
			for _, call := range []string{"systemctl daemon-reload", "systemctl enable sysgate-helper.service", "systemctl restart sysgate-helper.service"} {
				if n := strings.Count(string(got), "nsenter -t 1 -m -u -i -n -p -- "+call); n != 2 {
					t.Errorf("%q ran %d times over two runs, want every time:\n%s", call, n, got)
				}
			}
			for _, h := range c.labels {
				if !strings.Contains(string(got), "kubectl label node node-1 sysgate.io/handler-"+h+"=true --overwrite") {
					t.Errorf("node not labelled for %s:\n%s", h, got)
				}
			}
			var st syscall.Stat_t
			must(t, syscall.Stat(cfg, &st))
			if os.FileMode(st.Mode&0o777) != wantMode || int(st.Uid) != wantUID {
				t.Errorf("containerd config mode %o owner %d after the install, want %o %d", st.Mode&0o777, st.Uid, wantMode, wantUID)
			}
			final, _ := os.ReadFile(cfg)
			if strings.Count(string(final), "# BEGIN sysgate") != 1 || !bytes.HasPrefix(final[bytes.IndexByte(final, '\n')+1:], []byte(c.existing)) && !bytes.HasPrefix(final, []byte(c.existing)) {
				t.Errorf("config after two runs:\n%s", final)
			}
			if hs := handlers(t, final, c.version); len(hs) != len(c.labels) {
				t.Errorf("installed handlers %v, want %v", hs, c.labels)
			}
			record, err := os.ReadFile(filepath.Join(host, "var/lib/sysgate/install.json"))
			if err != nil || !strings.Contains(string(record), `"path": "/etc/containerd/config.toml"`) {
				t.Errorf("the record must name the host's path: %v\n%s", err, record)
			}
			// Another sysgate-runc path replaces the handlers and restarts
			// once more.
			run("SYSGATE_RUNTIME_PATH=/opt/sysgate-runc")
			final, _ = os.ReadFile(cfg)
			got, _ = os.ReadFile(calls)
			if strings.Count(string(final), "# BEGIN sysgate") != 1 || !bytes.Contains(final, []byte("/opt/sysgate-runc")) || bytes.Contains(final, []byte("/usr/local/bin/sysgate-runc")) ||
				strings.Count(string(got), "systemctl restart containerd") != 2 {
				t.Errorf("a changed runtime path must replace the handlers and restart once more:\n%s\n%s", final, got)
			}
			for path, want := range map[string]string{
				"usr/local/bin/sysgate-runc":                        "binary sysgate-runc",
				"usr/local/bin/containerd-shim-sysgate-v1":          "binary containerd-shim-sysgate-v1",
				"etc/sysgate/config.toml":                           o.configMaps["sysgate-policy"].Data["config.toml"],
				"var/lib/kubelet/seccomp/profiles/block-mkdir.json": o.configMaps["sysgate-profiles"].Data["block-mkdir.json"],
				"etc/systemd/system/sysgate-helper.service":         o.configMaps["sysgate-containerd"].Data["sysgate-helper.service"],
			} {
				if data, err := os.ReadFile(filepath.Join(host, path)); err != nil || string(data) != want {
					t.Errorf("%s: %v %q", path, err, data)
				}
			}
			// Taking sysgate off the node: the config as it was.
			if out, err := exec.Command(sysgate, "uninstall", "--root", host).CombinedOutput(); err != nil {
				t.Fatalf("sysgate uninstall: %v\n%s", err, out)
			}
			after, err := os.ReadFile(cfg)
			if c.existing == "" {
				if err == nil {
					t.Errorf("the config install created outlived uninstall: %q", after)
				}
			} else if string(after) != c.existing {
				t.Errorf("after uninstall:\n%q\nwant\n%q", after, c.existing)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fakeNode is a fake host for install.sh and uninstall.sh: the host's
// directories the DaemonSet mounts, the image's binaries (the real
// sysgate, the others stand-ins), the ConfigMaps as the Pod sees them, and
// nsenter and kubectl stubs that log their calls.
type fakeNode struct {
	host, img, cfgDir, stubs, calls string
}

func stageNode(t *testing.T, o objects, sysgate string, hostDirs ...string) fakeNode {
	t.Helper()
	dir := t.TempDir()
	n := fakeNode{filepath.Join(dir, "host"), filepath.Join(dir, "image"), filepath.Join(dir, "config"), filepath.Join(dir, "stubs"), filepath.Join(dir, "calls")}
	for _, d := range append([]string{"/usr/local/bin", "/etc/containerd", "/etc/systemd/system"}, hostDirs...) {
		must(t, os.MkdirAll(n.host+d, 0o755))
	}
	for _, d := range []string{n.img, n.stubs} {
		must(t, os.MkdirAll(d, 0o755))
	}
	for _, b := range []string{"sysgate-runc", "sysgate-helper", "containerd-shim-sysgate-v1"} {
		must(t, os.WriteFile(filepath.Join(n.img, b), []byte("binary "+b), 0o755))
	}
	data, err := os.ReadFile(sysgate)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(n.img, "sysgate"), data, 0o755))
	for cm, sub := range map[string]string{"sysgate-policy": "policy", "sysgate-profiles": "profiles", "sysgate-containerd": "containerd"} {
		must(t, os.MkdirAll(filepath.Join(n.cfgDir, sub), 0o755))
		for k, v := range o.configMaps[cm].Data {
			must(t, os.WriteFile(filepath.Join(n.cfgDir, sub, k), []byte(v), 0o644))
		}
	}
	for _, stub := range []string{"nsenter", "kubectl"} {
		must(t, os.WriteFile(filepath.Join(n.stubs, stub), []byte("#!/bin/sh\necho \""+stub+" $*\" >> '"+n.calls+"'\n"), 0o755))
	}
	return n
}
