package wrapper

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/shim"
	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/profile"
)

// podAnnotations are what containerd puts in a Kubernetes container's
// bundle (plus any allowed Pod annotations).
func podAnnotations(namespace, pod, container string, extra map[string]string) map[string]string {
	a := map[string]string{
		"io.kubernetes.cri.container-type":    "container",
		"io.kubernetes.cri.container-name":    container,
		"io.kubernetes.cri.sandbox-name":      pod,
		"io.kubernetes.cri.sandbox-namespace": namespace,
	}
	for k, v := range extra {
		a[k] = v
	}
	return a
}

// noMkdir is a usable Localhost profile: RuntimeDefault without mkdir, so
// the shell runs and `mkdir /tmp/test` fails with EPERM.
func noMkdir() *specs.LinuxSeccomp {
	p := profile.RuntimeDefault(profile.DefaultCapabilities)
	for i := range p.Syscalls {
		p.Syscalls[i].Names = slices.DeleteFunc(p.Syscalls[i].Names, func(n string) bool { return n == "mkdir" || n == "mkdirat" })
	}
	p.Syscalls = slices.DeleteFunc(p.Syscalls, func(s specs.LinuxSyscall) bool { return len(s.Names) == 0 })
	return p
}

func forEachRuntime(t *testing.T, test func(t *testing.T, rt runtime)) {
	requireRoot(t)
	for _, rt := range runtimes(t) {
		t.Run(rt.name, func(t *testing.T) { test(t, rt) })
	}
}

// TestSeedScenarios runs the seed document's Pods as containerd renders
// them, and checks both sides: what must be blocked is, and what must run
// runs.
func TestSeedScenarios(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, rt runtime) {
		for _, withHelper := range []bool{false, true} {
			name := "sysgate-runc alone"
			if withHelper {
				name = "with the helper"
			}
			t.Run(name, func(t *testing.T) { seedScenarios(t, rt, withHelper) })
		}
	})
}

// seedScenarios are the seed's Pods on one node; with the helper, the same
// outcomes must come from it (or, for the failing create, from sysgate-runc
// after the helper handed it back).
func seedScenarios(t *testing.T, rt runtime, withHelper bool) {
	n := newNode(t, rt, "")
	var helper *shim.Helper
	if withHelper {
		helper = n.startHelper()
	}
	n.addProfile("profiles/audit.json", noMkdir())
	rd := profile.RuntimeDefault(profile.DefaultCapabilities)

	t.Run("secure-app: Pod-level RuntimeDefault rendered by the CRI", func(t *testing.T) {
		r, _ := n.run(bundle.Options{Args: shell, Seccomp: rd, Annotations: podAnnotations("default", "secure-app", "app", nil)})
		o := observe(t, r)
		if o.seccomp != "2" || o.unshare || !o.mkdir || !o.ls {
			t.Errorf("want Seccomp 2, unshare blocked, mkdir and ls working; got %+v\n%s", o, r)
		}
	})
	mixed := map[string]string{
		spec.AnnotationContainerSeccompPrefix + "app":     "runtime/default",
		spec.AnnotationContainerSeccompPrefix + "sidecar": "localhost/profiles/audit.json",
	}
	t.Run("mixed-app: app RuntimeDefault", func(t *testing.T) {
		r, _ := n.run(bundle.Options{Args: shell, Annotations: podAnnotations("default", "mixed-app", "app", mixed)})
		o := observe(t, r)
		if o.seccomp != "2" || o.unshare || !o.mkdir {
			t.Errorf("app: %+v\n%s", o, r)
		}
	})
	t.Run("mixed-app: sidecar Localhost profiles/audit.json", func(t *testing.T) {
		r, _ := n.run(bundle.Options{Args: shell, Annotations: podAnnotations("default", "mixed-app", "sidecar", mixed)})
		o := observe(t, r)
		if o.seccomp != "2" || o.mkdir || !o.mkdirDeniedEPERM || !o.ls {
			t.Errorf("sidecar: want mkdir 'Operation not permitted' and ls working; got %+v\n%s", o, r)
		}
	})
	t.Run("custom-seccomp: Pod-level Localhost", func(t *testing.T) {
		r, _ := n.run(bundle.Options{Args: shell, Annotations: podAnnotations("default", "custom-seccomp", "app",
			map[string]string{spec.AnnotationPodSeccomp: "localhost/profiles/audit.json"})})
		o := observe(t, r)
		if !o.mkdirDeniedEPERM || o.mkdir || !o.ls {
			t.Errorf("%+v\n%s", o, r)
		}
	})
	t.Run("Unconfined field falls back to the node default", func(t *testing.T) {
		// containerd renders nothing for an Unconfined field: the bundle
		// looks exactly like one that asked for nothing.
		r, _ := n.run(bundle.Options{Args: shell, Annotations: podAnnotations("default", "plain", "app", nil)})
		o := observe(t, r)
		if o.seccomp != "2" || o.unshare || !o.mkdir {
			t.Errorf("%+v\n%s", o, r)
		}
	})
	t.Run("unconfined annotation with the default policy", func(t *testing.T) {
		r, _ := n.run(bundle.Options{Args: shell, Annotations: podAnnotations("default", "opt-out", "app",
			map[string]string{spec.AnnotationPodSeccomp: "unconfined"})})
		if o := observe(t, r); o.seccomp != "0" {
			t.Errorf("%+v\n%s", o, r)
		}
	})
	t.Run("no Kubernetes at all: node default for ctr, podman, runc users", func(t *testing.T) {
		r, _ := n.run(bundle.Options{Args: shell})
		if o := observe(t, r); o.seccomp != "2" || o.unshare {
			t.Errorf("%+v\n%s", o, r)
		}
	})
	t.Run("missing Localhost file fails creation", func(t *testing.T) {
		dir := n.bundle(bundle.Options{Args: shell, Annotations: podAnnotations("default", "p", "app",
			map[string]string{spec.AnnotationPodSeccomp: "localhost/profiles/missing.json"})})
		before, _ := os.ReadFile(filepath.Join(dir, "config.json"))
		r := n.cmd(false, "run", "--bundle", dir, newID("missing"))
		want := filepath.Join(n.profileRoot, "profiles/missing.json")
		if r.code != 1 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, spec.AnnotationPodSeccomp) {
			t.Errorf("want exit 1 naming %s and the annotation; %s", want, r)
		}
		fileUnchanged(t, filepath.Join(dir, "config.json"), before)
		assertLogged(t, n.logPath, want)
	})
	if withHelper {
		// Seven containers prepared by the helper; the missing profile
		// handed back, and reported by sysgate-runc itself (checked above).
		if served, fellBack := helper.Counts(); served != 7 || fellBack != 1 {
			t.Errorf("the helper served %d and handed back %d, want 7 and 1", served, fellBack)
		}
	}
}

// assertLogged checks the runc-format JSON log has an error line with text.
func assertLogged(t *testing.T, logPath, text string) {
	t.Helper()
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("no --log file: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var entry struct{ Level, Msg, Time string }
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Level == "error" && strings.Contains(entry.Msg, text) && entry.Time != "" {
			return
		}
	}
	t.Errorf("the --log file has no runc-style error line mentioning %q:\n%s", text, data)
}

func TestPolicy(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, rt runtime) {
		optOut := func(ns string) bundle.Options {
			return bundle.Options{Args: shell, Annotations: podAnnotations(ns, "p", "app", map[string]string{spec.AnnotationPodSeccomp: "unconfined"})}
		}
		t.Run("unconfined deny refuses", func(t *testing.T) {
			n := newNode(t, rt, `unconfined = "deny"`)
			dir := n.bundle(optOut("team-a"))
			before, _ := os.ReadFile(filepath.Join(dir, "config.json"))
			r := n.cmd(false, "run", "--bundle", dir, newID("deny"))
			if r.code != 1 || !strings.Contains(r.stderr, `unconfined = "deny"`) || !strings.Contains(r.stderr, "exempt_namespaces") {
				t.Errorf("%s", r)
			}
			fileUnchanged(t, filepath.Join(dir, "config.json"), before)
			assertLogged(t, n.logPath, "refusing to create")
		})
		t.Run("exempt namespace passes", func(t *testing.T) {
			n := newNode(t, rt, "unconfined = \"deny\"\nexempt_namespaces = [\"kube-system\"]")
			r, _ := n.run(optOut("kube-system"))
			if o := observe(t, r); o.seccomp != "0" {
				t.Errorf("%+v\n%s", o, r)
			}
		})
		t.Run("privileged runs unconfined by default", func(t *testing.T) {
			n := newNode(t, rt, "")
			r, _ := n.run(bundle.Options{Args: shell, Privileged: true, AllowNewPrivileges: true})
			if o := observe(t, r); o.seccomp != "0" {
				t.Errorf("%+v\n%s", o, r)
			}
		})
		t.Run("privileged override hardens it", func(t *testing.T) {
			n := newNode(t, rt, `privileged = "runtime/default"`)
			r, _ := n.run(bundle.Options{Args: []string{"sh", "-c", "grep '^Seccomp:' /proc/self/status; mount -t tmpfs none /tmp 2>&1 || echo mount-blocked"}, Privileged: true, AllowNewPrivileges: true})
			if !strings.Contains(r.stdout, "Seccomp:\t2") {
				t.Errorf("%s", r)
			}
			// RuntimeDefault for a privileged container's capabilities
			// (CAP_SYS_ADMIN) allows mount, as containerd would.
			if strings.Contains(r.stdout, "mount-blocked") {
				t.Errorf("mount with CAP_SYS_ADMIN should follow RuntimeDefault for those capabilities: %s", r)
			}
		})
		t.Run("decision log records every decision", func(t *testing.T) {
			logPath := filepath.Join(t.TempDir(), "decisions.jsonl")
			n := newNode(t, rt, "decision_log = \""+logPath+"\"")
			n.run(bundle.Options{Args: []string{"true"}, Annotations: podAnnotations("shop", "web-1", "app", nil)})
			n.run(bundle.Options{Args: []string{"true"}, Annotations: podAnnotations("shop", "web-1", "sidecar",
				map[string]string{spec.AnnotationPodSeccomp: "unconfined"})})
			data, err := os.ReadFile(logPath)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			if len(lines) != 2 {
				t.Fatalf("want 2 lines, got %d:\n%s", len(lines), data)
			}
			var first, second struct {
				Time      string
				Container struct{ ID, Namespace, Pod, Name string }
				Source    string
				Type      string
				Digest    string
			}
			json.Unmarshal([]byte(lines[0]), &first)
			json.Unmarshal([]byte(lines[1]), &second)
			if first.Time == "" || first.Container.Namespace != "shop" || first.Container.Pod != "web-1" || first.Container.Name != "app" ||
				first.Container.ID == "" || first.Source != "node default" || first.Type != "RuntimeDefault" || !strings.HasPrefix(first.Digest, "sha256:") {
				t.Errorf("first decision: %+v", first)
			}
			if second.Container.Name != "sidecar" || second.Source != "pod annotation" || second.Type != "Unconfined" || second.Digest != "" {
				t.Errorf("second decision: %+v", second)
			}
		})
		t.Run("audit lets the blocked call through and logs it", func(t *testing.T) {
			n := newNode(t, rt, "audit = true")
			n.addProfile("profiles/audit.json", noMkdir())
			marker := newID("audit")
			r, _ := n.run(bundle.Options{
				Args:        []string{"sh", "-c", "mkdir /tmp/" + marker + " && echo mkdir-ok"},
				Annotations: podAnnotations("default", "p", "app", map[string]string{spec.AnnotationPodSeccomp: "localhost/profiles/audit.json"}),
			})
			if !strings.Contains(r.stdout, "mkdir-ok") {
				t.Fatalf("audit mode must let mkdir through: %s", r)
			}
			assertKernelLogged(t, "mkdir")
		})
	})
}

// assertKernelLogged looks for the kernel's seccomp audit record
// (type=1326) of a logged syscall made by comm.
func assertKernelLogged(t *testing.T, comm string) {
	t.Helper()
	logged, err := os.ReadFile("/proc/sys/kernel/seccomp/actions_logged")
	if err != nil || !strings.Contains(string(logged), "log") {
		t.Skipf("this kernel does not log SCMP_ACT_LOG (actions_logged: %q)", logged)
	}
	out, err := readKernelLog()
	if err != nil {
		t.Skipf("cannot read the kernel log: %v", err)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "type=1326") && strings.Contains(line, `comm="`+comm+`"`) && strings.Contains(line, "syscall=83") {
			return
		}
	}
	t.Errorf("no seccomp audit record (type=1326) for %s mkdir in the kernel log", comm)
}
