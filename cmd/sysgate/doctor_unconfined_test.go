package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCheckUnconfined on a fake /proc: only processes in another mount
// namespace under a containerd shim or conmon count as containers, and
// those with Seccomp: 0 are listed.
func TestCheckUnconfined(t *testing.T) {
	root := t.TempDir()
	proc := func(pid, ppid int, name, seccomp, mntns string) {
		dir := filepath.Join(root, strconv.Itoa(pid))
		must(t, os.MkdirAll(filepath.Join(dir, "ns"), 0o755))
		must(t, os.WriteFile(filepath.Join(dir, "status"), []byte("Name:\t"+name+"\nPPid:\t"+strconv.Itoa(ppid)+"\nSeccomp:\t"+seccomp+"\n"), 0o644))
		must(t, os.Symlink("mnt:["+mntns+"]", filepath.Join(dir, "ns", "mnt")))
	}
	must(t, os.MkdirAll(filepath.Join(root, "self", "ns"), 0o755))
	must(t, os.Symlink("mnt:[1]", filepath.Join(root, "self", "ns", "mnt")))
	proc(1, 0, "systemd", "0", "1")
	proc(10, 1, "containerd-shim", "0", "1")
	proc(11, 10, "pause", "2", "2")     // a confined container
	proc(12, 10, "app", "0", "3")       // an unconfined container
	proc(13, 12, "app-child", "0", "3") // and its child
	proc(20, 1, "conmon", "0", "1")
	proc(21, 20, "podman-app", "0", "4") // unconfined under podman
	proc(30, 1, "sshd", "0", "1")        // host processes are not containers
	proc(31, 30, "unshare", "0", "5")    // another namespace, but no shim above

	r := &report{}
	checkUnconfined(doctorEnv{procRoot: root, policyPath: "/etc/sysgate/config.toml"}, r)
	f := r.findings[0]
	if f.Status != statusWarn || !strings.HasPrefix(f.Detail, "3 container processes run without a seccomp filter") {
		t.Fatalf("%+v", f)
	}
	for _, want := range []string{"12 (app)", "13 (app-child)", "21 (podman-app)"} {
		if !strings.Contains(f.Detail, want) {
			t.Errorf("%q lacks %q", f.Detail, want)
		}
	}
	for _, not := range []string{"(pause)", "(unshare)", "(sshd)"} {
		if strings.Contains(f.Detail, not) {
			t.Errorf("%q lists %s", f.Detail, not)
		}
	}
	if !strings.Contains(f.Fix, `unconfined = "deny"`) {
		t.Errorf("fix %q", f.Fix)
	}

	// All confined: OK, counted.
	must(t, os.WriteFile(filepath.Join(root, "12", "status"), []byte("Name:\tapp\nPPid:\t10\nSeccomp:\t2\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "13", "status"), []byte("Name:\tapp-child\nPPid:\t12\nSeccomp:\t2\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "21", "status"), []byte("Name:\tpodman-app\nPPid:\t20\nSeccomp:\t2\n"), 0o644))
	r = &report{}
	checkUnconfined(doctorEnv{procRoot: root}, r)
	if f := r.findings[0]; f.Status != statusOK || !strings.HasPrefix(f.Detail, "4 container processes, all under") {
		t.Errorf("%+v", f)
	}
}
