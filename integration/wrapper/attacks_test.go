package wrapper

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/spec"
)

// Attacks from the security review (issue 13), each of which once ran a
// container weaker than decided while the decision log said otherwise.
// Each runs on runc and crun, with and without the create helper, and must
// now fail to weaken anything.

// onEveryNode runs test on a node with the policy extra, for every runtime,
// with sysgate-runc alone and with the create helper.
func onEveryNode(t *testing.T, policy string, test func(t *testing.T, n *node)) {
	forEachRuntime(t, func(t *testing.T, rt runtime) {
		eachHelperMode(t, func(t *testing.T, withHelper bool) {
			n := newNode(t, rt, policy)
			if withHelper {
				n.startHelper()
			}
			test(t, n)
		})
	})
}

func eachHelperMode(t *testing.T, test func(t *testing.T, withHelper bool)) {
	for _, withHelper := range []bool{false, true} {
		name := "sysgate-runc alone"
		if withHelper {
			name = "with the helper"
		}
		t.Run(name, func(t *testing.T) { test(t, withHelper) })
	}
}

// bundlePair lays out, under root, a real bundle (elsewhere/b) and a decoy
// (top/b), and top/link -> elsewhere/deep: "top/link/../b" names the
// decoy as text and the real bundle to the kernel, which is what a
// runtime's chdir follows. Both bundles ask for no profile, so the node
// default (RuntimeDefault) must confine the one that runs.
func bundlePair(t *testing.T, n *node) (root, real string, decoyConfig []byte) {
	t.Helper()
	root = t.TempDir()
	real = filepath.Join(root, "elsewhere", "b")
	decoy := filepath.Join(root, "top", "b")
	for _, dir := range []string{real, decoy} {
		if _, err := bundle.Create(dir, bundle.Options{Args: shell}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "elsewhere", "deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "elsewhere", "deep"), filepath.Join(root, "top", "link")); err != nil {
		t.Fatal(err)
	}
	decoyConfig, err := os.ReadFile(filepath.Join(decoy, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	return root, real, decoyConfig
}

// assertRefusedRun runs the bundle in dir through sysgate-runc and wants a
// refusal whose message holds every one of says, no container, and
// config.json as it was.
func assertRefusedRun(t *testing.T, n *node, dir string, says ...string) {
	t.Helper()
	config := filepath.Join(dir, "config.json")
	before, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	id := newID("refused")
	r := n.cmd(false, "run", "--bundle", dir, id)
	n.cmd(true, "delete", "--force", id)
	if r.code == 0 || strings.Contains(r.stdout, "Seccomp:") {
		t.Errorf("want a refusal and no container: %s", r)
	}
	for _, s := range says {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("the refusal does not say %q: %s", s, r)
		}
	}
	fileUnchanged(t, config, before)
}

func assertConfined(t *testing.T, r result) {
	t.Helper()
	o := observe(t, r)
	if o.seccomp != "2" || o.unshare || !o.ls {
		t.Errorf("the container ran with Seccomp %q, unshare allowed %v (want 2, blocked): %s", o.seccomp, o.unshare, r)
	}
}

// TestBundlePathResolvedAsTheRuntime: sysgate edits the directory the
// runtime runs, whatever "..", symlinks or the working directory do to the
// path's text (issue 13, items 1 and 2).
func TestBundlePathResolvedAsTheRuntime(t *testing.T) {
	onEveryNode(t, "", func(t *testing.T, n *node) {
		t.Run("symlink then ..", func(t *testing.T) {
			root, _, decoy := bundlePair(t, n)
			id := newID("sg")
			r := n.cmd(false, "run", "--bundle", filepath.Join(root, "top")+"/link/../b", id)
			n.cmd(true, "delete", "--force", id)
			assertConfined(t, r)
			fileUnchanged(t, filepath.Join(root, "top", "b", "config.json"), decoy)
		})
		t.Run("relative to a working directory reached through a symlink", func(t *testing.T) {
			root, _, decoy := bundlePair(t, n)
			id := newID("sg")
			// From top/link (physically elsewhere/deep), ../b is elsewhere/b;
			// joined as text with the path of the working directory it
			// would be top/b.
			r := n.cmdIn(filepath.Join(root, "top", "link"), false, "run", "--bundle", "../b", id)
			n.cmd(true, "delete", "--force", id)
			assertConfined(t, r)
			fileUnchanged(t, filepath.Join(root, "top", "b", "config.json"), decoy)
		})
		t.Run("relative path that names another bundle when joined to /proc/self/fd/N", func(t *testing.T) {
			// The helper once joined a client's relative path to
			// /proc/self/fd/N as text: ../../root/DECOY became
			// /proc/self/root/DECOY, the decoy at DECOY in the helper's
			// view, while the runtime ran base/root/DECOY, two levels
			// above its working directory base/w1/w2.
			decoyDir := t.TempDir()
			if _, err := bundle.Create(decoyDir, bundle.Options{Args: shell}); err != nil {
				t.Fatal(err)
			}
			decoy, _ := os.ReadFile(filepath.Join(decoyDir, "config.json"))
			base := t.TempDir()
			cwd := filepath.Join(base, "w1", "w2")
			if err := os.MkdirAll(cwd, 0o755); err != nil {
				t.Fatal(err)
			}
			if _, err := bundle.Create(filepath.Join(base, "root", decoyDir), bundle.Options{Args: shell}); err != nil {
				t.Fatal(err)
			}
			id := newID("sg")
			r := n.cmdIn(cwd, false, "run", "--bundle", "../../root"+decoyDir, id)
			n.cmd(true, "delete", "--force", id)
			assertConfined(t, r)
			fileUnchanged(t, filepath.Join(decoyDir, "config.json"), decoy)
		})
	})
}

// TestUnclearCommandLinesRefused: command lines the runtime reads
// otherwise than sysgate (issue 13, item 7) are refused before any
// container starts, naming the argument.
func TestUnclearCommandLinesRefused(t *testing.T) {
	onEveryNode(t, "", func(t *testing.T, n *node) {
		dir := n.bundle(bundle.Options{Args: shell})
		alt := filepath.Join(t.TempDir(), "alt.json")
		raw, _ := os.ReadFile(filepath.Join(dir, "config.json"))
		os.WriteFile(alt, raw, 0o644)
		for _, tc := range []struct {
			name, cwd string
			args      []string
			names     string
		}{
			{"abbreviated global option", "", []string{"--roo", n.stateRoot, "run", "--bundle", dir, "ID"}, `"--roo"`},
			{"crun's -f", "", []string{"run", "-f", alt, "--bundle", dir, "ID"}, "another config file"},
			{"value attached to -b", t.TempDir(), []string{"run", "-b" + dir, "ID"}, `"-b` + dir + `"`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				id := newID("sg")
				for i := range tc.args {
					tc.args[i] = strings.ReplaceAll(tc.args[i], "ID", id)
				}
				r := n.cmdIn(tc.cwd, false, tc.args...)
				n.cmd(true, "delete", "--force", id)
				if r.code == 0 || strings.Contains(r.stdout, "Seccomp:") || !strings.Contains(r.stderr, tc.names) {
					t.Errorf("want a refusal naming %s and no container: %s", tc.names, r)
				}
				fileUnchanged(t, filepath.Join(dir, "config.json"), raw)
			})
		}
	})
}

// TestAllowAllProfileUnderDeny: under unconfined = "deny", a profile that
// denies nothing (defaultAction ALLOW or LOG, no denying rule) is refused
// like Unconfined itself, whether a Localhost file or the bundle carries it
// (issue 13, item 6); a profile that denies one call still runs.
func TestAllowAllProfileUnderDeny(t *testing.T) {
	onEveryNode(t, `unconfined = "deny"`, func(t *testing.T, n *node) {
		n.addProfile("profiles/allow-all.json", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow})
		localhost := map[string]string{spec.AnnotationPodSeccomp: "localhost/profiles/allow-all.json"}
		for _, tc := range []struct {
			name string
			opts bundle.Options
		}{
			{"Localhost ALLOW", bundle.Options{Args: shell, Annotations: podAnnotations("team-a", "p", "app", localhost)}},
			{"in-spec LOG", bundle.Options{Args: shell, Seccomp: &specs.LinuxSeccomp{DefaultAction: specs.ActLog,
				Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				assertRefusedRun(t, n, n.bundle(tc.opts), "unconfined in all but name")
			})
		}
		t.Run("one denying rule runs", func(t *testing.T) {
			r, _ := n.run(bundle.Options{Args: shell, Seccomp: noMkdir()})
			if o := observe(t, r); o.seccomp != "2" || !o.mkdirDeniedEPERM {
				t.Errorf("%+v\n%s", o, r)
			}
		})
	})
}

// TestCacheWritableByOthers: once anyone but root may write the cache of
// compiled programs, they could plant an allow-all program that crun would
// load through the handoff (issue 13, item 3). Such a policy is refused,
// fail closed, naming the directory and the fix.
func TestCacheWritableByOthers(t *testing.T) {
	onEveryNode(t, "", func(t *testing.T, n *node) {
		r, _ := n.run(bundle.Options{Args: shell})
		assertConfined(t, r)
		cacheDir := filepath.Join(filepath.Dir(n.policyPath), "cache")
		if err := os.Chmod(cacheDir, 0o777); err != nil {
			t.Fatal(err)
		}
		assertRefusedRun(t, n, n.bundle(bundle.Options{Args: shell}), "cache_dir "+cacheDir+" is not safe", "chmod go-w")
	})
}

// TestCaseDuplicateMembersRefused: "namespaces" then "Namespaces" in linux
// is two members to crun and one, the last, to runc; sysgate's rewrite
// once re-sorted them and flipped which one runc kept (the container lost
// its network namespace). Such a bundle is refused (issue 13, item 5), and
// an ordinary one keeps every member's bytes and order.
func TestCaseDuplicateMembersRefused(t *testing.T) {
	onEveryNode(t, "", func(t *testing.T, n *node) {
		dir := n.bundle(bundle.Options{Args: shell})
		config := filepath.Join(dir, "config.json")
		raw, _ := os.ReadFile(config)
		patched := strings.Replace(string(raw), `"namespaces":`, `"namespaces":[{"type":"pid"},{"type":"mount"}],"Namespaces":`, 1)
		if patched == string(raw) {
			t.Fatal("the bundle has no linux.namespaces to duplicate")
		}
		os.WriteFile(config, []byte(patched), 0o644)
		assertRefusedRun(t, n, dir, `has the members "namespaces" and "Namespaces"`)
	})
}

// TestIdentityClaimsRefused: a container claiming an exempt namespace
// through annotations its engine did not write (podman's --annotation, a
// Pod's annotations that CRI-O copies into the bundle) does not get that
// namespace's unconfined (issue 13, item 4).
func TestIdentityClaimsRefused(t *testing.T) {
	onEveryNode(t, "unconfined = \"deny\"\nexempt_namespaces = [\"kube-system\"]", func(t *testing.T, n *node) {
		claim := map[string]string{
			spec.AnnotationPodSeccomp:             "unconfined",
			"io.kubernetes.cri.sandbox-namespace": "kube-system",
			"io.kubernetes.cri.container-type":    "container",
		}
		withKeys := func(extra map[string]string) map[string]string {
			out := map[string]string{}
			for k, v := range claim {
				out[k] = v
			}
			for k, v := range extra {
				out[k] = v
			}
			return out
		}
		for _, tc := range []struct {
			name        string
			annotations map[string]string
			says        string
		}{
			// podman marks every bundle with io.podman.annotations.*.
			{"podman --annotation", withKeys(map[string]string{"io.podman.annotations.init": "FALSE", "io.container.manager": "libpod"}), `unconfined = "deny"`},
			// CRI-O writes its own keys and copies the Pod's.
			{"a Pod's annotations on CRI-O", withKeys(map[string]string{"io.kubernetes.cri-o.ContainerType": "container", "io.kubernetes.pod.namespace": "team-a"}), "identity annotations"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				assertRefusedRun(t, n, n.bundle(bundle.Options{Args: shell, Annotations: tc.annotations}), tc.says)
			})
		}
		t.Run("containerd's own keys still exempt kube-system", func(t *testing.T) {
			r, _ := n.run(bundle.Options{Args: shell, Annotations: podAnnotations("kube-system", "p", "app", map[string]string{spec.AnnotationPodSeccomp: "unconfined"})})
			if o := observe(t, r); o.seccomp != "0" {
				t.Errorf("%+v\n%s", o, r)
			}
		})
	})
}

// TestRestoreFollowsThePolicy: a checkpoint restores whatever seccomp state
// its image holds; restore is refused unless the policy allows it (issue
// 13, item 8).
func TestRestoreFollowsThePolicy(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, rt runtime) {
		dir := t.TempDir()
		images := t.TempDir()
		t.Run("refused by default", func(t *testing.T) {
			n := newNode(t, rt, "")
			r := n.cmd(false, "restore", "--image-path", images, "--bundle", dir, newID("restore"))
			if r.code == 0 || !strings.Contains(r.stderr, "refusing restore") || !strings.Contains(r.stderr, "allow_restore = true") {
				t.Errorf("%s", r)
			}
			assertLogged(t, n.logPath, "refusing restore")
		})
		t.Run("allowed: the runtime answers", func(t *testing.T) {
			n := newNode(t, rt, "allow_restore = true")
			r := n.cmd(false, "restore", "--image-path", images, "--bundle", dir, newID("restore"))
			if strings.Contains(r.stderr, "refusing restore") || !strings.Contains(r.stderr, "allow_restore = true") {
				t.Errorf("%s", r)
			}
		})
	})
}
