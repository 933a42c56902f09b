package shim

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sysgate/sysgate/conformance/bundle"
	specbundle "github.com/sysgate/sysgate/spec/bundle"
	"github.com/sysgate/sysgate/spec/profile"
	"golang.org/x/sys/unix"
)

// askHelper is fastpath.c's side of the protocol, in Go: the request with
// the working directory and root as descriptors, and the reply split.
func askHelper(t testing.TB, socket, policy, workDir string, args ...string) (kind, detail string) {
	t.Helper()
	conn, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: socket, Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	cwd, err := os.OpenFile(workDir, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer cwd.Close()
	root, err := os.OpenFile("/", unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	msg := encodeHelperRequest(helperRequest{PolicyPath: policy, Args: args})
	if _, _, err := conn.WriteMsgUnix(msg, unix.UnixRights(int(cwd.Fd()), int(root.Fd())), nil); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, 4096)
	n, err := conn.Read(reply)
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Split(strings.TrimSuffix(string(reply[:n]), "\x00"), "\x00")
	if len(fields) != 2 {
		t.Fatalf("reply %q", reply[:n])
	}
	return fields[0], fields[1]
}

// helperNode is a policy, a bundle as containerd writes it, and a helper
// serving that policy on a socket.
type helperNode struct {
	policy, socket, bundle, config string
	original                       []byte
	helper                         *Helper
}

func newHelperNode(t testing.TB, policyBody string) *helperNode {
	t.Helper()
	dir := t.TempDir()
	n := &helperNode{
		policy: filepath.Join(dir, "config.toml"),
		socket: filepath.Join(dir, "run", "helper.sock"),
		bundle: filepath.Join(dir, "bundle"),
	}
	n.config = filepath.Join(n.bundle, "config.json")
	body := "runtime = \"/bin/true\"\ncache_dir = \"" + filepath.Join(dir, "cache") + "\"\nprofile_root = \"" + filepath.Join(dir, "seccomp") + "\"\n" + policyBody
	if err := os.WriteFile(n.policy, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(n.bundle, 0o755); err != nil {
		t.Fatal(err)
	}
	s := bundle.Spec(bundle.Options{Args: []string{"true"}, Seccomp: profile.RuntimeDefault(profile.DefaultCapabilities)})
	n.original = mustJSON(t, s)
	n.reset(t)
	h, stop, err := StartHelper(n.policy, n.socket)
	if err != nil {
		t.Fatal(err)
	}
	n.helper = h
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return n
}

func (n *helperNode) reset(t testing.TB) {
	if err := os.WriteFile(n.config, n.original, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestHelperServesCreate(t *testing.T) {
	n := newHelperNode(t, "decision_log = \""+filepath.Join(t.TempDir(), "decisions.log")+"\"\n")
	kind, detail := askHelper(t, n.socket, n.policy, "/", "--root", "/run/x", "create", "--bundle", n.bundle, "c1")
	if kind != helperReplyOK || detail != "/bin/true" {
		t.Fatalf("reply %s %q, want ok /bin/true", kind, detail)
	}
	got, _ := os.ReadFile(n.config)
	if !strings.Contains(string(got), specbundle.AnnotationDecision) {
		t.Errorf("config.json was not rewritten")
	}
	if served, fellBack := n.helper.Counts(); served != 1 || fellBack != 0 {
		t.Errorf("counts %d served, %d handed back", served, fellBack)
	}
}

// A create run from inside the bundle (no --bundle) resolves through the
// client's working directory, and is served.
func TestHelperBundleIsTheClientsWorkingDirectory(t *testing.T) {
	n := newHelperNode(t, "")
	kind, detail := askHelper(t, n.socket, n.policy, n.bundle, "run", "c1")
	if kind != helperReplyOK {
		t.Fatalf("reply %s %q", kind, detail)
	}
	got, _ := os.ReadFile(n.config)
	if !strings.Contains(string(got), specbundle.AnnotationDecision) {
		t.Errorf("config.json was not rewritten")
	}
}

// TestHelperHandsBack: every case the helper cannot do exactly as
// sysgate-runc would is handed back with config.json untouched.
func TestHelperHandsBack(t *testing.T) {
	tests := []struct {
		name, policy string
		askPolicy    func(n *helperNode) string
		args         []string
		ownBundle    bool // args name the bundle (BUNDLE: its path), from the client's working directory, its parent
		reason       string
	}{
		{name: "another policy file", askPolicy: func(*helperNode) string { return "/etc/other.toml" },
			args: []string{"create", "c"}, reason: "this helper serves"},
		{name: "a relative policy path", askPolicy: func(*helperNode) string { return "config.toml" },
			args: []string{"create", "c"}, reason: "this helper serves"},
		{name: "not create", args: []string{"state", "c"}, reason: `command "state"`},
		// The client execs the runtime with these arguments: a path that is
		// not the bundle's real path could name another directory by then.
		{name: "a relative bundle path", args: []string{"run", "-b", "bundle", "c"}, ownBundle: true, reason: "is not the directory's real path"},
		{name: "a bundle path through ..", args: []string{"create", "--bundle", "BUNDLE/../bundle", "c"}, ownBundle: true, reason: "is not the directory's real path"},
		{name: "an abbreviated global option", args: []string{"--roo", "/tmp/x", "create", "c"}, reason: `"--roo"`},
		{name: "crun's config file option", args: []string{"create", "-f", "/alt.json", "c"}, reason: "another config file"},
		{name: "a missing Localhost profile", args: []string{"create", "c"},
			policy: "default = \"localhost/profiles/missing.json\"\n", reason: "missing.json"},
		{name: "a warning for the caller", args: []string{"create", "c"},
			policy: "default = \"unconfined\"\nunconfined = \"audit\"\n", reason: "warning"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newHelperNode(t, tt.policy)
			if tt.policy != "" {
				// The bundle asks for nothing, so the node default decides.
				s := bundle.Spec(bundle.Options{Args: []string{"true"}})
				n.original = mustJSON(t, s)
				n.reset(t)
			}
			policy := n.policy
			if tt.askPolicy != nil {
				policy = tt.askPolicy(n)
			}
			args := append([]string{"--root", "/run/x"}, tt.args...)
			cwd := "/"
			if tt.ownBundle {
				cwd = filepath.Dir(n.bundle)
				for i := range args {
					args[i] = strings.ReplaceAll(args[i], "BUNDLE", n.bundle)
				}
			} else {
				args = append(args[:len(args)-1], "--bundle", n.bundle, args[len(args)-1])
			}
			kind, detail := askHelper(t, n.socket, policy, cwd, args...)
			if kind != helperReplyFallback || !strings.Contains(detail, tt.reason) {
				t.Fatalf("reply %s %q, want fallback naming %q", kind, detail, tt.reason)
			}
			if got, _ := os.ReadFile(n.config); string(got) != string(n.original) {
				t.Errorf("config.json changed")
			}
		})
	}
}

// TestHelperRereadsPolicy: an edit of the policy applies to the next create,
// as it does without the helper.
func TestHelperRereadsPolicy(t *testing.T) {
	n := newHelperNode(t, "")
	body, _ := os.ReadFile(n.policy)
	if err := os.WriteFile(n.policy, append(body, "unconfined = \"bogus\"\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	kind, detail := askHelper(t, n.socket, n.policy, "/", "create", "--bundle", n.bundle, "c")
	if kind != helperReplyFallback || !strings.Contains(detail, "bogus") {
		t.Fatalf("reply %s %q, want fallback naming the broken policy", kind, detail)
	}
	if err := os.WriteFile(n.policy, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if kind, detail := askHelper(t, n.socket, n.policy, "/", "create", "--bundle", n.bundle, "c"); kind != helperReplyOK {
		t.Fatalf("reply %s %q after the fix", kind, detail)
	}
}

func TestListenHelperReplacesStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h", "helper.sock")
	for i := 0; i < 2; i++ {
		l, err := ListenHelper(path)
		if err != nil {
			t.Fatal(err)
		}
		l.SetUnlinkOnClose(false) // leave a stale socket behind
		l.Close()
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want 0600", st.Mode().Perm())
	}
	if st, _ := os.Stat(filepath.Dir(path)); st.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", st.Mode().Perm())
	}
}

// BenchmarkHelper is one create served by the helper, round trip included:
// what sysgate-runc adds with a helper besides its own exec.
func BenchmarkHelper(b *testing.B) {
	n := newHelperNode(b, "")
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		n.reset(b)
		b.StartTimer()
		if kind, detail := askHelper(b, n.socket, n.policy, "/", "create", "--bundle", n.bundle, "c"); kind != helperReplyOK {
			b.Fatal(errors.New(detail))
		}
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestHelperOtherProcessContext: a client in another mount namespace may
// see other files at the same paths, so the helper hands it back. A client
// with a smaller capability bounding set is served, with "privileged"
// measured against the client's set, as sysgate-runc itself would measure
// it: its bundle, which holds exactly the client's capabilities, is
// privileged to the client (and would not be to the helper).
func TestHelperOtherProcessContext(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("unshare -m and setpriv --bounding-set need root")
	}
	tests := []struct {
		name   string
		wrap   []string
		reason string // "": served
	}{
		{"another mount namespace", []string{"unshare", "-m"}, "the client is in another mount namespace"},
		{"a smaller bounding set", []string{"setpriv", "--bounding-set", "-sys_admin"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := exec.LookPath(tt.wrap[0]); err != nil {
				t.Fatalf("%s (util-linux, part of every Debian system) is not installed", tt.wrap[0])
			}
			log := filepath.Join(t.TempDir(), "decisions.log")
			n := newHelperNode(t, "decision_log = \""+log+"\"\n")
			if tt.reason == "" {
				// Every capability the client holds, nothing masked: a
				// privileged container to the client.
				s := bundle.Spec(bundle.Options{Args: []string{"true"}, Privileged: true})
				s.Process.Capabilities.Bounding = slices.DeleteFunc(s.Process.Capabilities.Bounding, func(c string) bool { return c == "CAP_SYS_ADMIN" })
				n.original = mustJSON(t, s)
				n.reset(t)
			}
			argv := append(tt.wrap, os.Args[0], "-test.run=^TestHelperClientProcess$", "-test.v")
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Env = append(os.Environ(), helperClientEnv+"="+strings.Join([]string{n.socket, n.policy, n.bundle}, "\n"))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("client: %v\n%s", err, out)
			}
			if tt.reason == "" {
				got, _ := os.ReadFile(log)
				if !strings.Contains(string(out), "reply: ok: /bin/true") || !strings.Contains(string(got), `"source":"privileged policy"`) {
					t.Errorf("want it served and decided as privileged by the client's bounding set; the client said:\n%s\ndecisions: %s", out, got)
				}
				return
			}
			if !strings.Contains(string(out), "reply: fallback: "+tt.reason) {
				t.Errorf("want the request handed back: %s; the client said:\n%s", tt.reason, out)
			}
			if got, _ := os.ReadFile(n.config); string(got) != string(n.original) {
				t.Errorf("config.json changed")
			}
		})
	}
}

const helperClientEnv = "SYSGATE_TEST_HELPER_CLIENT"

// TestHelperClientProcess is the client half of TestHelperOtherProcessContext.
func TestHelperClientProcess(t *testing.T) {
	args := strings.Split(os.Getenv(helperClientEnv), "\n")
	if len(args) != 3 {
		t.Skip("run by TestHelperOtherProcessContext")
	}
	kind, detail := askHelper(t, args[0], args[1], "/", "create", "--bundle", args[2], "c")
	t.Logf("reply: %s: %s", kind, detail)
}
