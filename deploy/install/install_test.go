package install

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

var testOpts = Options{Handler: "sysgate", RuntimePath: "/opt/sg/sysgate-runc", ShimHandler: "sysgate-shim"}

// shapes are config files as operators have them, per engine; each must
// survive install then uninstall byte for byte.
var shapes = map[string][]struct{ name, text string }{
	"containerd": {
		{"missing file", "\x00missing"},
		{"empty file", ""},
		{"only a comment, no newline at the end", "# containerd config"},
		{"v2 with runc handler", "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n  runtime_type = \"io.containerd.runc.v2\"\n  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n    SystemdCgroup = true\n"},
		{"v2 dotted, comments, CRLF", "# top\r\nversion = 2 # two\r\nroot = \"/var/lib/containerd\"\r\n[plugins]\r\n  [plugins.\"io.containerd.grpc.v1.cri\"]\r\n    sandbox_image = \"pause:3.9\" # pinned\r\n"},
		{"v3 with runtimes table", "version = 3\n[plugins.'io.containerd.cri.v1.runtime'.containerd]\n  default_runtime_name = 'runc'\n  [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes]\n    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]\n      runtime_type = 'io.containerd.runc.v2'\n"},
		{"v3 ends in a key of another table", "version = 3\n[plugins.'io.containerd.cri.v1.images']\n  snapshotter = 'overlayfs'"},
		{"no version, other tables", "root = \"/r\"\n[grpc]\n  address = \"/run/c.sock\"\n"},
		{"trailing blank lines and spaces", "version = 2\n\n\n   \n"},
	},
	"crio": {
		{"missing file", "\x00missing"},
		{"empty file", ""},
	},
	"podman": {
		{"missing file", "\x00missing"},
		{"empty file", ""},
		{"engine.runtimes exists", "[containers]\nlog_driver = \"k8s-file\"\n\n[engine]\ncgroup_manager = \"cgroupfs\"\n\n[engine.runtimes]\ncrun = [\"/usr/bin/crun\"]\n\n[network]\n"},
		{"engine.runtimes header at the end without newline", "[engine.runtimes]"},
		{"engine.runtimes header with comment, CRLF", "[engine]\r\n[ engine . runtimes ] # mine\r\nrunc = [\"/usr/sbin/runc\"]\r\n"},
		{"engine without runtimes", "[engine]\nevents_logger = \"file\"\n"},
	},
	"docker": {
		{"missing file", "\x00missing"},
		{"empty file", ""},
		{"whitespace only", "\n \n"},
		{"empty object", "{}"},
		{"empty object, spaced", "{ \n }\n"},
		{"other keys", "{\n  \"log-driver\": \"json-file\",\n  \"storage-driver\": \"overlay2\"\n}\n"},
		{"runtimes with another", "{\"runtimes\": {\"crun\": {\"path\": \"/usr/bin/crun\"}}, \"debug\": true}"},
		{"empty runtimes, CRLF", "{\r\n  \"runtimes\": {}\r\n}\r\n"},
	},
}

func TestInstallUninstallRoundTrip(t *testing.T) {
	for _, e := range Engines {
		for _, s := range shapes[e.Name] {
			t.Run(e.Name+"/"+s.name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "conf")
				missing := s.text == "\x00missing"
				if !missing {
					must(t, os.WriteFile(path, []byte(s.text), 0o640))
				}
				c, err := PlanInstall(e, "/", path, testOpts, nil)
				if err != nil {
					t.Fatal(err)
				}
				if c.Unchanged() || c.Created != missing {
					t.Fatalf("unchanged %v created %v", c.Unchanged(), c.Created)
				}
				must(t, c.Commit(false))
				after, _ := os.ReadFile(path)
				doc, err := decode(e.Format, after)
				if err != nil {
					t.Fatalf("installed file does not parse: %v\n%s", err, after)
				}
				if bin, ok := e.lookup(doc, testOpts); !ok || bin != testOpts.RuntimePath {
					t.Fatalf("handler after install: %q %v\n%s", bin, ok, after)
				}
				if !missing && !bytes.HasPrefix(after, []byte(s.text[:0])) && !strings.Contains(string(after), strings.TrimSpace(s.text)) {
					t.Errorf("the old content is gone:\n%s", after)
				}
				if crlf := strings.Contains(s.text, "\r\n"); crlf && strings.Count(string(after), "\n") != strings.Count(string(after), "\r\n") {
					t.Errorf("CRLF file got LF lines:\n%q", after)
				}
				// Again with the same options: nothing to do.
				again, err := PlanInstall(e, "/", path, testOpts, c)
				if err != nil || !again.Unchanged() {
					t.Fatalf("second install: %v, unchanged %v", err, again != nil && again.Unchanged())
				}
				u, remove, err := PlanUninstall("/", *c)
				if err != nil {
					t.Fatal(err)
				}
				if remove != missing {
					t.Errorf("remove %v for a file that existed=%v", remove, !missing)
				}
				must(t, u.Commit(remove))
				got, err := os.ReadFile(path)
				if missing {
					if err == nil {
						t.Errorf("the file install created is still there: %q", got)
					}
					return
				}
				if string(got) != s.text {
					t.Errorf("after uninstall:\n%q\nwant\n%q", got, s.text)
				}
				st, _ := os.Stat(path)
				if st.Mode().Perm() != 0o640 {
					t.Errorf("mode %v, want 0640", st.Mode().Perm())
				}
			})
		}
	}
}

// An operator edits the file between install and uninstall: the edit
// stays, sysgate's lines go.
func TestUninstallKeepsLaterEdits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	orig := "version = 2\n[grpc]\n  address = \"/run/c.sock\"\n"
	must(t, os.WriteFile(path, []byte(orig), 0o600))
	c, err := PlanInstall(containerd, "/", path, testOpts, nil)
	must(t, err)
	must(t, c.Commit(false))
	data, _ := os.ReadFile(path)
	edited := strings.Replace(string(data), "[grpc]\n", "[grpc]\n  uid = 0\n", 1)
	must(t, os.WriteFile(path, []byte(edited), 0o600))
	u, _, err := PlanUninstall("/", *c)
	must(t, err)
	if want := strings.Replace(orig, "[grpc]\n", "[grpc]\n  uid = 0\n", 1); string(u.Next()) != want {
		t.Errorf("got %q want %q", u.Next(), want)
	}
	// sysgate's block edited by hand: refused, file untouched.
	must(t, os.WriteFile(path, []byte(strings.Replace(edited, "BinaryName", "BinaryName2", 1)), 0o600))
	if _, _, err := PlanUninstall("/", *c); err == nil || !strings.Contains(err.Error(), "edited by hand") {
		t.Errorf("want an edited-by-hand error, got %v", err)
	}
}

// The record was written and the file not (a crash between the two), or
// the operator took sysgate's lines out by hand: uninstall has nothing to
// write, install starts afresh.
func TestRecordedTextGone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	orig := "version = 2\n"
	must(t, os.WriteFile(path, []byte(orig), 0o644))
	c, err := PlanInstall(containerd, "/", path, testOpts, nil)
	must(t, err)
	// Not committed.
	u, remove, err := PlanUninstall("/", *c)
	if err != nil || remove || !u.NothingLeft() {
		t.Fatalf("uninstall of an edit never written: %v %v %v", err, remove, u != nil && u.NothingLeft())
	}
	c2, err := PlanInstall(containerd, "/", path, testOpts, c)
	must(t, err)
	if c2.Unchanged() || !bytes.Equal(c2.Next(), c.Next()) {
		t.Errorf("install after a lost write:\n%s", c2.Next())
	}
	// The file gone altogether.
	must(t, os.Remove(path))
	if u, _, err := PlanUninstall("/", *c); err != nil || !u.NothingLeft() {
		t.Errorf("uninstall with the file gone: %v", err)
	}
}

// Installing with other options replaces the block, once.
func TestReinstallReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	must(t, os.WriteFile(path, []byte("version = 3\n"), 0o644))
	c, err := PlanInstall(containerd, "/", path, testOpts, nil)
	must(t, err)
	must(t, c.Commit(false))
	o := testOpts
	o.RuntimePath = "/usr/local/bin/sysgate-runc"
	c2, err := PlanInstall(containerd, "/", path, o, c)
	must(t, err)
	if c2.Unchanged() || strings.Count(string(c2.Next()), "# BEGIN sysgate") != 1 || strings.Contains(string(c2.Next()), testOpts.RuntimePath) {
		t.Fatalf("reinstall:\n%s", c2.Next())
	}
	must(t, c2.Commit(false))
	u, _, err := PlanUninstall("/", *c2)
	must(t, err)
	if string(u.Next()) != "version = 3\n" {
		t.Errorf("%q", u.Next())
	}
}

// A node the old shell installer set up: its block is replaced, and
// uninstall then leaves the file as it was without any sysgate block.
func TestLegacyBlockReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	orig := "version = 2\n[grpc]\n  address = \"/run/c.sock\"\n"
	legacy := orig + "\n# BEGIN sysgate (managed by the sysgate DaemonSet)\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.sysgate]\n  runtime_type = \"io.containerd.runc.v2\"\n# END sysgate\n"
	must(t, os.WriteFile(path, []byte(legacy), 0o644))
	c, err := PlanInstall(containerd, "/", path, testOpts, nil)
	must(t, err)
	var diff bytes.Buffer
	c.Diff(&diff, false)
	if strings.Contains(string(c.Next()), "managed by the sysgate DaemonSet") || !strings.Contains(diff.String(), "-# BEGIN sysgate (managed by the sysgate DaemonSet)") {
		t.Fatalf("legacy block kept:\n%s\n%s", c.Next(), diff.String())
	}
	must(t, c.Commit(false))
	u, _, err := PlanUninstall("/", *c)
	must(t, err)
	if string(u.Next()) != orig {
		t.Errorf("%q", u.Next())
	}
}

func TestRefusals(t *testing.T) {
	for _, c := range []struct {
		engine, text, want string
	}{
		{"containerd", "version = 2\n[plugins\n", "not valid TOML: line 2"},
		{"containerd", "version = 1\n", "config version 1"},
		{"containerd", "version = 'x'\n", "not an integer"},
		{"containerd", "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.sysgate]\n", "exists and sysgate install has no record"},
		{"containerd", "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n  runtimes = {runc = {runtime_type = \"io.containerd.runc.v2\"}}\n", "would not parse"},
		{"crio", "[crio]\n", "no record of writing it"},
		{"podman", "[engine]\nruntimes.crun = [\"/usr/bin/crun\"]\n", "would not parse"},
		{"podman", "[engine.runtimes]\nsysgate = [\"/x\"]\n", "exists"},
		{"podman", "[engine\n", "not valid TOML"},
		{"docker", "{\"runtimes\": {\"sysgate\": {\"path\": \"/x\"}}}", "exists"},
		{"docker", "{\"debug\": true,}", "not valid JSON"},
		{"docker", "[]", "not an object"},
		{"docker", "{\"runtimes\": 1}", "not an object"},
		{"docker", "{\"runtimes\": {}, \"runtimes\": {}}", "appears twice"},
		{"docker", "{} {}", "data after"},
	} {
		t.Run(c.engine+"/"+c.want, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "conf")
			must(t, os.WriteFile(path, []byte(c.text), 0o644))
			e, _ := EngineNamed(c.engine)
			_, err := PlanInstall(e, "/", path, testOpts, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("got %v, want an error naming %s and saying %q", err, path, c.want)
			}
		})
	}
	for _, o := range []Options{{Handler: "a b", RuntimePath: "/x"}, {Handler: "a", RuntimePath: "x"}, {Handler: "a", RuntimePath: "/x\"y"}} {
		if _, err := PlanInstall(docker, "/", filepath.Join(t.TempDir(), "x"), o, nil); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// A symlinked config is refused: the atomic rename would turn the link
// into a file.
func TestSymlinkRefused(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "real.toml"), []byte("version = 2\n"), 0o644))
	must(t, os.Symlink("real.toml", filepath.Join(dir, "config.toml")))
	_, err := PlanInstall(containerd, "/", filepath.Join(dir, "config.toml"), testOpts, nil)
	if err == nil || !strings.Contains(err.Error(), "is a symlink to real.toml") {
		t.Fatalf("got %v", err)
	}
}

// containerd configs can hold registry credentials: mode and owner kept.
func TestModeAndOwnerKept(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	path := filepath.Join(t.TempDir(), "config.toml")
	must(t, os.WriteFile(path, []byte("version = 2\n"), 0o600))
	must(t, os.Chown(path, 1234, 5678))
	c, err := PlanInstall(containerd, "/", path, testOpts, nil)
	must(t, err)
	must(t, c.Commit(false))
	var st syscall.Stat_t
	must(t, syscall.Stat(path, &st))
	if st.Mode&0o777 != 0o600 || st.Uid != 1234 || st.Gid != 5678 {
		t.Errorf("mode %o owner %d:%d", st.Mode&0o777, st.Uid, st.Gid)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "install.json")
	r, err := LoadRecord(path)
	must(t, err)
	r.Put(Change{Engine: "docker", Path: "/etc/docker/daemon.json", Inserts: []Insert{{1, "x"}}})
	must(t, r.Save(path))
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("record mode %v", st.Mode().Perm())
	}
	r2, err := LoadRecord(path)
	must(t, err)
	if c := r2.Find("docker", "/etc/docker/daemon.json"); c == nil || c.Inserts[0].Text != "x" {
		t.Fatalf("%+v", r2)
	}
	r2.Drop("docker", "/etc/docker/daemon.json")
	must(t, r2.Save(path))
	if _, err := os.Stat(path); err == nil {
		t.Error("an empty record stays")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
