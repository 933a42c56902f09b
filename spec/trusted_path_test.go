package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckTrustedPath(t *testing.T) {
	root := t.TempDir() // 0700 under the sticky /tmp
	mk := func(rel string, mode os.FileMode) string {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	safe := mk("safe", 0o755)
	file := filepath.Join(safe, "config.toml")
	os.WriteFile(file, []byte("runtime = \"/bin/true\"\n"), 0o644)
	open := mk("open", 0o777)
	mk("open/inner", 0o755)
	sticky := mk("sticky", os.ModeSticky|0o777)
	mk("sticky/inner", 0o755)
	groupFile := filepath.Join(safe, "group.toml")
	os.WriteFile(groupFile, nil, 0o664)
	os.Chmod(groupFile, 0o664)
	linkToOpen := filepath.Join(safe, "to-open")
	os.Symlink(filepath.Join(open, "inner"), linkToOpen)

	for _, tc := range []struct {
		name, path string
		want       string // "" passes
	}{
		{"root's file in root's directories", file, ""},
		{"a directory that does not exist yet, under safe ones", filepath.Join(safe, "later", "cache"), ""},
		{"below a sticky directory", filepath.Join(sticky, "inner"), ""},
		{"the sticky directory itself", sticky, "writable by group or others (mode 1777)"},
		{"a group-writable file", groupFile, "writable by group or others (mode 0664)"},
		{"below a world-writable directory", filepath.Join(open, "inner"), "a directory above it, " + open},
		{"a symlink into a world-writable directory", linkToOpen, "a directory above it, " + open},
		{"not there yet, below a world-writable directory", filepath.Join(open, "new"), "a directory above it, " + open},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckTrustedPath(tc.path, "cache_dir")
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "cache_dir "+tc.path)):
				t.Fatalf("err = %v, want it to name cache_dir %s and say %q", err, tc.path, tc.want)
			}
		})
	}
	if os.Geteuid() == 0 {
		theirs := mk("theirs", 0o755)
		if err := os.Chown(theirs, 1234, 1234); err != nil {
			t.Fatal(err)
		}
		if err := CheckTrustedPath(theirs, "profile_root"); err == nil || !strings.Contains(err.Error(), "owned by uid 1234") || !strings.Contains(err.Error(), "chown root") {
			t.Errorf("another user's directory: %v", err)
		}
	}
}

// A policy whose file, profile root or cache others may change is refused
// at load, naming the key and the fix.
func TestLoadPolicyRefusesUntrustedPaths(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open")
	os.Mkdir(open, 0o755)
	os.Chmod(open, 0o777)
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), mode)
		os.Chmod(p, mode)
		return p
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"policy file writable by others", write("a.toml", "runtime = \"/bin/true\"\n", 0o666), "policy file " + filepath.Join(dir, "a.toml") + " is not safe"},
		{"cache_dir in a world-writable directory", write("b.toml", "runtime = \"/bin/true\"\ncache_dir = \""+open+"/cache\"\n", 0o644), "cache_dir " + open + "/cache is not safe"},
		{"profile_root writable by others", write("c.toml", "runtime = \"/bin/true\"\nprofile_root = \""+open+"\"\n", 0o644), "profile_root " + open + " is not safe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadPolicy(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "chmod go-w") {
				t.Errorf("err = %v, want %q and the fix", err, tc.want)
			}
		})
	}
	if _, err := RuntimeOnly(filepath.Join(dir, "a.toml")); err == nil || !strings.Contains(err.Error(), "is not safe") {
		t.Errorf("the passthrough path read a policy others may write: %v", err)
	}
}
