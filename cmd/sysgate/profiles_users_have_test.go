package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The profiles users already have validate without errors: podman's default
// (containers-common, installed by make deps), Docker's (moby's default.json,
// from the Go module the differential test uses) and the seed's Localhost
// profiles. Docker's format is validated as containers get it rendered.
func TestValidateProfilesUsersHave(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/moby/profiles/seccomp").Output()
	if err != nil {
		t.Fatalf("locating moby's profile module: %v", err)
	}
	seed, _ := filepath.Glob("../../spec/profile/testdata/*.json")
	files := append([]string{"/usr/share/containers/seccomp.json", filepath.Join(strings.TrimSpace(string(out)), "default.json")}, seed...)
	for _, f := range files {
		code, stdout, stderr := runCLI("profile", "validate", f)
		if code != 0 || strings.Contains(stdout, "error:") {
			t.Errorf("validate %s: exit %d\n%s%s", f, code, stdout, stderr)
		}
	}
	// And render: moby's default for no capabilities is a plain profile
	// that compiles.
	code, stdout, stderr := runCLI("profile", "render", files[1], "--caps", "CAP_CHOWN")
	if code != 0 || strings.Contains(stdout, "includes") || !strings.Contains(stdout, `"SCMP_ARCH_X86_64"`) {
		t.Errorf("render: exit %d\n%s", code, stderr)
	}
	rendered := writeFile(t, "rendered.json", stdout)
	if code, _, stderr := runCLI("profile", "compile", rendered, "-o", filepath.Join(t.TempDir(), "p.bpf")); code != 0 {
		t.Errorf("compile of the rendering: exit %d\n%s", code, stderr)
	}
}
