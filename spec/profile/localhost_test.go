package profile

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sysgate/sysgate/spec/internal/profiletest"
)

// profileTree builds, in a temporary directory:
//
//	outside/escaped.json        a valid profile outside the root
//	outside/dir/p.json          a valid profile outside the root
//	root/profiles/audit.json    the seed's profile
//	root/...                    symlinks, directories and bad files
//
// and returns the root.
func profileTree(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	profiletest.WriteFile(t, filepath.Join(outside, "escaped.json"), profiletest.AuditJSON)
	profiletest.WriteFile(t, filepath.Join(outside, "dir", "p.json"), profiletest.AuditJSON)

	profiletest.WriteFile(t, filepath.Join(root, "profiles", "audit.json"), profiletest.AuditJSON)
	profiletest.WriteFile(t, filepath.Join(root, "a", "b", "c.json"), profiletest.AuditJSON)
	profiletest.WriteFile(t, filepath.Join(root, "invalid.json"), `{"defaultAction": 5}`)
	profiletest.WriteFile(t, filepath.Join(root, "not-json.json"), "defaultAction: SCMP_ACT_ERRNO\n")
	if err := os.MkdirAll(filepath.Join(root, "profiles", "dir.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Symlinks that stay inside the root.
	profiletest.Symlink(t, "audit.json", filepath.Join(root, "profiles", "same-dir.json"))
	profiletest.Symlink(t, "../profiles/audit.json", filepath.Join(root, "links", "up-and-down.json"))
	profiletest.Symlink(t, filepath.Join(root, "profiles", "audit.json"), filepath.Join(root, "links", "absolute.json"))
	profiletest.Symlink(t, "profiles", filepath.Join(root, "profiles-link"))
	profiletest.Symlink(t, filepath.Join(root, "profiles"), filepath.Join(root, "profiles-abs-link"))
	profiletest.Symlink(t, "missing.json", filepath.Join(root, "dangling.json"))
	// Symlinks that leave it.
	profiletest.Symlink(t, "/etc/passwd", filepath.Join(root, "passwd.json"))
	profiletest.Symlink(t, "../outside/escaped.json", filepath.Join(root, "escape-relative.json"))
	profiletest.Symlink(t, filepath.Join(outside, "escaped.json"), filepath.Join(root, "escape-absolute.json"))
	profiletest.Symlink(t, "../../outside/dir", filepath.Join(root, "sub", "out"))
	profiletest.Symlink(t, filepath.Join(outside, "dir"), filepath.Join(root, "out-abs"))
	profiletest.Symlink(t, "/proc/self/root/etc/passwd", filepath.Join(root, "magic.json"))
	return root
}

func TestLoadLocalhost(t *testing.T) {
	root := profileTree(t)
	const outsideMsg = "outside the profile root"
	for _, tc := range []struct {
		name string
		rel  string
		want []string // substrings of the error; none: it loads auditProfileJSON
	}{
		{"good profile", "profiles/audit.json", nil},
		{"nested directories", "a/b/c.json", nil},
		{"symlink in the same directory", "profiles/same-dir.json", nil},
		{"relative symlink up and down", "links/up-and-down.json", nil},
		{"absolute symlink to a file inside the root", "links/absolute.json", nil},
		{"relative directory symlink inside the root", "profiles-link/audit.json", nil},
		{"absolute directory symlink inside the root", "profiles-abs-link/audit.json", nil},

		{"missing file", "profiles/missing.json", []string{filepath.Join(root, "profiles/missing.json") + " does not exist", "install the profile on this node under " + root}},
		{"missing directory", "nope/audit.json", []string{filepath.Join(root, "nope/audit.json") + " does not exist", "install the profile"}},
		{"dangling symlink", "dangling.json", []string{filepath.Join(root, "dangling.json") + " does not exist"}},
		{"symlink to /etc/passwd", "passwd.json", []string{filepath.Join(root, "passwd.json"), outsideMsg, root}},
		{"relative symlink out of the root", "escape-relative.json", []string{filepath.Join(root, "escape-relative.json"), outsideMsg}},
		{"absolute symlink out of the root", "escape-absolute.json", []string{filepath.Join(root, "escape-absolute.json"), outsideMsg}},
		{"directory symlink in the middle of the path", "sub/out/p.json", []string{filepath.Join(root, "sub/out/p.json"), outsideMsg}},
		{"absolute directory symlink in the middle", "out-abs/p.json", []string{filepath.Join(root, "out-abs/p.json"), outsideMsg}},
		{"magic link", "magic.json", []string{filepath.Join(root, "magic.json"), outsideMsg}},
		{"directory instead of a file", "profiles/dir.json", []string{filepath.Join(root, "profiles/dir.json") + " is not a regular file"}},
		{"the root itself", ".", []string{root + " is not a regular file"}},
		{"traversal", "../outside/escaped.json", []string{`must not contain ".."`}},
		{"absolute", "/etc/passwd", []string{"must be relative"}},
		{"empty", "", []string{"is empty"}},
		{"not JSON", "not-json.json", []string{filepath.Join(root, "not-json.json") + ": invalid JSON"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			full, p, err := LoadLocalhost(root, tc.rel, nil)
			if wantFull := filepath.Join(root, tc.rel); full != wantFull {
				t.Errorf("full path = %q, want %q", full, wantFull)
			}
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(p, profiletest.AuditWant()) {
					t.Errorf("profile = %+v\nwant %+v", p, profiletest.AuditWant())
				}
				return
			}
			if err == nil {
				t.Fatalf("LoadLocalhost(%q) = %+v, want an error", tc.rel, p)
			}
			if p != nil {
				t.Errorf("a profile came back with the error: %+v", p)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadLocalhostInvalidProfile(t *testing.T) {
	root := profileTree(t)
	full, p, err := LoadLocalhost(root, "invalid.json", nil)
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want a *ParseError", err, err)
	}
	if want := filepath.Join(root, "invalid.json"); pe.File != want || full != want {
		t.Errorf("ParseError.File = %q, full = %q, want %q", pe.File, full, want)
	}
	if pe.Path != "defaultAction" {
		t.Errorf("ParseError.Path = %q, want defaultAction", pe.Path)
	}
	if p != nil {
		t.Errorf("profile %+v returned with the error", p)
	}
}

func TestLoadLocalhostHugeFile(t *testing.T) {
	root := profileTree(t)
	path := filepath.Join(root, "huge.json")
	// 10 MB of a real JSON array, not a sparse file, so that reading it all
	// would cost measurable time and memory.
	data := make([]byte, 10<<20)
	data[0] = '['
	for i := 1; i < len(data)-1; i += 2 {
		data[i], data[i+1] = '0', ','
	}
	data[len(data)-2], data[len(data)-1] = '0', ']'
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	full, p, err := LoadLocalhost(root, "huge.json", nil)
	elapsed := time.Since(start)
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want a *ParseError", err, err)
	}
	if pe.File != path || full != path {
		t.Errorf("ParseError.File = %q, full = %q, want %q", pe.File, full, path)
	}
	if !strings.Contains(pe.Problem, "larger than 1048576 bytes") {
		t.Errorf("problem %q does not give the limit", pe.Problem)
	}
	if p != nil {
		t.Error("a profile came back with the error")
	}
	if elapsed > time.Second {
		t.Errorf("refusing a 10 MB profile took %v", elapsed)
	}
}

func TestLoadLocalhostFIFO(t *testing.T) {
	// A named pipe in the root must be refused, not block the runtime's
	// create forever waiting for a writer.
	root := profileTree(t)
	if err := syscall.Mkfifo(filepath.Join(root, "fifo.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := LoadLocalhost(root, "fifo.json", nil)
		done <- err
	}()
	select {
	case err := <-done:
		want := filepath.Join(root, "fifo.json") + " is not a regular file"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("LoadLocalhost blocks on a FIFO")
	}
}

func TestLoadLocalhostRootThroughSymlink(t *testing.T) {
	// /var/lib/kubelet is often a symlink to a bigger disk: a root reached
	// through a symlink works, and so do absolute symlinks inside it that
	// name either spelling of the root.
	real := profileTree(t)
	root := filepath.Join(t.TempDir(), "kubelet-seccomp")
	profiletest.Symlink(t, real, root)
	profiletest.Symlink(t, filepath.Join(root, "profiles", "audit.json"), filepath.Join(real, "via-link.json"))
	for _, rel := range []string{"profiles/audit.json", "links/absolute.json", "via-link.json"} {
		full, p, err := LoadLocalhost(root, rel, nil)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		if full != filepath.Join(root, rel) || !reflect.DeepEqual(p, profiletest.AuditWant()) {
			t.Errorf("%s: full %q, profile %+v", rel, full, p)
		}
	}
	if _, _, err := LoadLocalhost(root, "passwd.json", nil); err == nil || !strings.Contains(err.Error(), "outside the profile root") {
		t.Errorf("passwd.json through a symlinked root: %v", err)
	}
}

func TestLoadLocalhostMissingRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "no-root")
	_, _, err := LoadLocalhost(root, "profiles/audit.json", nil)
	if err == nil || !strings.Contains(err.Error(), "profile root "+root) {
		t.Errorf("err = %v, want it to name the missing profile root %s", err, root)
	}
}
