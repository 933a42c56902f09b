package wrapper

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/spec"
)

// TestBadInput: every refusal exits 1 with an error naming what is at
// fault, logs it in runc's format, and leaves config.json byte-identical.
func TestBadInput(t *testing.T) {
	requireRoot(t)
	rt := runtimes(t)[0]
	withPod := func(value string) bundle.Options {
		return bundle.Options{Args: shell, Annotations: podAnnotations("default", "p", "app", map[string]string{spec.AnnotationPodSeccomp: value})}
	}
	for _, tc := range []struct {
		name   string
		policy string
		setup  func(n *node) bundle.Options
		// mangle changes the bundle after it is built.
		mangle func(t *testing.T, dir string)
		want   []string
		// fault: the node is at fault (exit 3), not the input (exit 1).
		fault bool
	}{
		{name: "malformed config.json",
			setup:  func(n *node) bundle.Options { return bundle.Options{Args: shell} },
			mangle: func(t *testing.T, dir string) { appendFile(t, filepath.Join(dir, "config.json"), "{,") },
			want:   []string{"config.json", "line"}},
		{name: "malformed profile",
			setup: func(n *node) bundle.Options {
				n.addProfileBytes("profiles/bad.json", []byte(`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [`))
				return withPod("localhost/profiles/bad.json")
			},
			want: []string{"profiles/bad.json", spec.AnnotationPodSeccomp}},
		{name: "profile with an unknown action",
			setup: func(n *node) bundle.Options {
				n.addProfileBytes("profiles/act.json", []byte(`{"defaultAction":"SCMP_ACT_SOMETIMES"}`))
				return withPod("localhost/profiles/act.json")
			},
			want: []string{"profiles/act.json", "SCMP_ACT_SOMETIMES"}},
		{name: "unknown annotation value",
			setup: func(n *node) bundle.Options { return withPod("strict/please") },
			want:  []string{spec.AnnotationPodSeccomp, "strict/please"}},
		{name: "localhost/../x",
			setup: func(n *node) bundle.Options { return withPod("localhost/../x") },
			want:  []string{`".."`, spec.AnnotationPodSeccomp}},
		{name: "localhost//etc/passwd",
			setup: func(n *node) bundle.Options { return withPod("localhost//etc/passwd") },
			want:  []string{"/etc/passwd", "absolute"}},
		{name: "symlink escaping the root",
			setup: func(n *node) bundle.Options {
				if err := os.Symlink("/etc", filepath.Join(n.profileRoot, "profiles", "escape")); err != nil {
					t.Fatal(err)
				}
				return withPod("localhost/profiles/escape/passwd")
			},
			want: []string{"outside the profile root"}},
		{name: "10 MB profile",
			setup: func(n *node) bundle.Options {
				n.addProfileBytes("profiles/huge.json", []byte(`{"defaultAction":"SCMP_ACT_ERRNO","comment":"`+strings.Repeat("x", 10<<20)+`"}`))
				return withPod("localhost/profiles/huge.json")
			},
			want: []string{"profiles/huge.json", "1048576"}},
		{name: "missing real runtime", policy: `runtime = "/nonexistent/runc"`,
			setup: func(n *node) bundle.Options { return bundle.Options{Args: shell} },
			want:  []string{"/nonexistent/runc", "install it or set runtime"}, fault: true},
		{name: "invalid TOML policy", policy: `unconfined = `,
			setup: func(n *node) bundle.Options { return bundle.Options{Args: shell} },
			want:  []string{"config.toml"}, fault: true},
		{name: "unknown policy key", policy: `defualt = "unconfined"`,
			setup: func(n *node) bundle.Options { return bundle.Options{Args: shell} },
			want:  []string{"defualt"}, fault: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, rt, "")
			opts := tc.setup(n)
			if tc.policy != "" {
				// Later keys would be duplicates: write the policy whole.
				body := "profile_root = \"" + n.profileRoot + "\"\n" + tc.policy + "\n"
				if !strings.Contains(tc.policy, "runtime") {
					body = "runtime = \"" + rt.path + "\"\n" + body
				}
				os.WriteFile(n.policyPath, []byte(body), 0o644)
			}
			dir := n.bundle(opts)
			if tc.mangle != nil {
				tc.mangle(t, dir)
			}
			before, _ := os.ReadFile(filepath.Join(dir, "config.json"))
			r := n.cmd(false, "run", "--bundle", dir, newID("bad"))
			want := 1
			if tc.fault {
				want = 3
			}
			if r.code != want {
				t.Errorf("exit %d, want %d\n%s", r.code, want, r)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not mention %q:\n%s", w, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "panic") {
				t.Errorf("panic:\n%s", r.stderr)
			}
			fileUnchanged(t, filepath.Join(dir, "config.json"), before)
			assertLogged(t, n.logPath, tc.want[0])
		})
	}
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(text)
}
