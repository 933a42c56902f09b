package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysgate/sysgate/spec"
)

// TestMakeInstall runs `make install` and `make uninstall` into a DESTDIR
// with stand-in binaries: everything lands under PREFIX, the unit runs the
// installed sysgate, the default policy loads, an existing policy is never
// overwritten, and uninstall refuses while the install record says engines
// still use sysgate-runc.
func TestMakeInstall(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	dir := t.TempDir()
	from, dest := filepath.Join(dir, "bin"), filepath.Join(dir, "dest")
	must(t, os.MkdirAll(from, 0o755))
	bins := []string{"sysgate", "sysgate-runc", "sysgate-helper", "containerd-shim-sysgate-v1", "sysgate-probe"}
	for _, b := range bins {
		must(t, os.WriteFile(filepath.Join(from, b), []byte("binary "+b), 0o700))
	}
	make := func(target string, extra ...string) (string, error) {
		// -o build: the stand-ins are the build.
		args := append([]string{"-C", "..", "--no-print-directory", "-o", "build", target, "DESTDIR=" + dest, "PREFIX=/opt/sg", "INSTALL_FROM=" + from}, extra...)
		out, err := exec.Command("make", args...).CombinedOutput()
		return string(out), err
	}
	if out, err := make("install"); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	for _, b := range bins {
		st, err := os.Stat(filepath.Join(dest, "opt/sg/bin", b))
		if err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v %v", b, err, st)
		}
	}
	unit, err := os.ReadFile(filepath.Join(dest, "etc/systemd/system/sysgate-helper.service"))
	if err != nil || !strings.Contains(string(unit), "ExecStart=/opt/sg/bin/sysgate helper --config "+spec.DefaultPolicyPath+" ") {
		t.Errorf("unit: %v\n%s", err, unit)
	}
	policy := filepath.Join(dest, "etc/sysgate/config.toml")
	p, err := spec.LoadPolicy(policy)
	if err != nil {
		t.Fatalf("the default policy does not load: %v", err)
	}
	if d := spec.DefaultPolicy(); p.Runtime != d.Runtime || p.Default != d.Default || p.ProfileRoot != d.ProfileRoot || p.CacheDir != d.CacheDir {
		t.Errorf("deploy/policy/config.toml differs from the built-in defaults: %+v", p)
	}

	// The operator's policy survives a second install.
	must(t, os.WriteFile(policy, []byte("unconfined = \"deny\"\n"), 0o600))
	if out, err := make("install"); err != nil || !strings.Contains(out, "kept the existing policy") {
		t.Fatalf("second make install: %v\n%s", err, out)
	}
	if data, _ := os.ReadFile(policy); string(data) != "unconfined = \"deny\"\n" {
		t.Errorf("policy overwritten: %q", data)
	}

	record := filepath.Join(dest, "var/lib/sysgate/install.json")
	must(t, os.MkdirAll(filepath.Dir(record), 0o755))
	must(t, os.WriteFile(record, []byte("{}"), 0o600))
	if out, err := make("uninstall"); err == nil || !strings.Contains(out, "run sysgate uninstall first") {
		t.Errorf("make uninstall with engines still installed: %v\n%s", err, out)
	}
	must(t, os.Remove(record))
	if out, err := make("uninstall"); err != nil {
		t.Fatalf("make uninstall: %v\n%s", err, out)
	}
	for _, b := range bins {
		if _, err := os.Stat(filepath.Join(dest, "opt/sg/bin", b)); err == nil {
			t.Errorf("%s left", b)
		}
	}
	if _, err := os.Stat(policy); err != nil {
		t.Errorf("make uninstall removed the policy: %v", err)
	}
}
