package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/shim/record"
	"github.com/sysgate/sysgate/spec/profile"
)

const podmanDefault = "/usr/share/containers/seccomp.json"

func recordingFile(t *testing.T, name string, calls record.Calls) string {
	t.Helper()
	p, meta, err := record.Build(calls, record.Metadata{Records: 1})
	if err != nil {
		t.Fatal(err)
	}
	data, err := record.Marshal(p, meta)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, name, string(data))
}

func TestProfileMerge(t *testing.T) {
	a := recordingFile(t, "a.json", record.Calls{specs.ArchX86_64: {0: 1, 1: 1, 59: 1}})    // read write execve
	b := recordingFile(t, "b.json", record.Calls{specs.ArchX86_64: {1: 1, 257: 1, 231: 1}}) // write openat exit_group
	out := filepath.Join(t.TempDir(), "merged.json")
	code, _, stderr := runCLI("profile", "merge", a, b, "-o", out)
	if code != 0 {
		t.Fatalf("merge: %d %s", code, stderr)
	}
	p, err := profile.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"execve", "exit_group", "openat", "read", "write"}; !slices.Equal(p.Syscalls[0].Names, want) {
		t.Errorf("merged %v, want %v", p.Syscalls[0].Names, want)
	}
	if code, _, _ := runCLI("profile", "diff", a, out); code != 1 {
		t.Errorf("a recording and the union: diff exit %d, want 1", code)
	}
}

// TestProfileMergeRefuses: invalid input or inputs without a union are
// errors that name the fault, and nothing is written.
func TestProfileMergeRefuses(t *testing.T) {
	rd := filepath.Join(t.TempDir(), "rd.json")
	if code, stdout, _ := runCLI("profile", "default"); code != 0 {
		t.Fatal("profile default failed")
	} else {
		os.WriteFile(rd, []byte(stdout), 0o644)
	}
	rec := recordingFile(t, "rec.json", record.Calls{specs.ArchX86_64: {0: 1}})
	invalid := writeFile(t, "invalid.json", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALOW"}]}`)
	truncated := writeFile(t, "truncated.json", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[`)
	aarch := writeFile(t, "arm.json", `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_AARCH64"],"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}`)
	cases := []struct {
		name  string
		files []string
		want  string
	}{
		{"invalid action", []string{rec, invalid}, "invalid.json"},
		{"truncated", []string{rec, truncated}, "truncated.json"},
		{"missing", []string{rec, "/nonexistent.json"}, "nonexistent.json"},
		{"other machine", []string{rec, aarch}, "no kernel reports beside"},
		{"one file", []string{rec}, "two or more"},
	}
	if _, err := os.Stat(podmanDefault); err == nil {
		cases = append(cases, struct {
			name  string
			files []string
			want  string
		}{"containerd's and podman's defaults", []string{rd, podmanDefault}, "different defaults"})
	}
	for _, c := range cases {
		out := filepath.Join(t.TempDir(), "merged.json")
		code, _, stderr := runCLI(append(append([]string{"profile", "merge"}, c.files...), "-o", out)...)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, want an error naming %q:\n%s", c.name, code, c.want, stderr)
		}
		if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 0 {
			t.Errorf("%s: %d files written", c.name, len(entries))
		}
	}
}

// TestProfileDiffDefaults: containerd's RuntimeDefault against podman's
// default profile, by meaning.
func TestProfileDiffDefaults(t *testing.T) {
	if _, err := os.Stat(podmanDefault); err != nil {
		t.Skip("podman's default profile is not installed")
	}
	code, stdout, stderr := runCLI("profile", "diff", "runtime/default", podmanDefault, "--output", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (they differ)\n%s", code, stderr)
	}
	var doc struct {
		Differences []diffLine `json:"differences"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	find := func(abi specs.Arch, name string) *diffLine {
		for i, d := range doc.Differences {
			if d.ABI == abi && (d.Syscall == name) {
				return &doc.Differences[i]
			}
		}
		return nil
	}
	for _, c := range []struct {
		abi  specs.Arch
		name string
		a, b string
	}{
		// podman allows unshare and clone3 for every container (rendered
		// without CAP_SYS_ADMIN), containerd does not; containerd allows
		// io_pgetevents, podman does not.
		{specs.ArchX86_64, "unshare", "SCMP_ACT_ERRNO(1)", "SCMP_ACT_ALLOW"},
		{specs.ArchX86_64, "clone3", "SCMP_ACT_ERRNO(38)", "SCMP_ACT_ALLOW"},
		{specs.ArchX86_64, "io_pgetevents", "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO(1)"},
	} {
		d := find(c.abi, c.name)
		if d == nil || d.A != c.a || d.B != c.b {
			t.Errorf("%s %s: %+v, want a %s, b %s", c.abi, c.name, d, c.a, c.b)
		}
	}
	// socket's verdict depends on its arguments in podman's (AF_NETLINK
	// with NETLINK_AUDIT is denied): listed with the arguments.
	found := false
	for _, d := range doc.Differences {
		found = found || (d.Syscall == "socket" && d.Args != nil)
	}
	if !found {
		t.Error("no argument-dependent difference for socket")
	}
	code, text, _ := runCLI("profile", "diff", "runtime/default", podmanDefault)
	if code != 1 || !strings.Contains(text, "unshare (272)") || !strings.Contains(text, "--- a: runtime/default") {
		t.Errorf("text output:\n%s", text)
	}
}

// TestProfileDiffRecording: a recording against RuntimeDefault: it allows
// nothing RuntimeDefault denies, and denies what the workload never made.
func TestProfileDiffRecording(t *testing.T) {
	rec := recordingFile(t, "rec.json", record.Calls{specs.ArchX86_64: {0: 1, 1: 1, 59: 1, 231: 1}})
	code, stdout, stderr := runCLI("profile", "diff", "runtime/default", rec, "--output", "json")
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var doc struct {
		Differences []diffLine `json:"differences"`
	}
	json.Unmarshal([]byte(stdout), &doc)
	for _, d := range doc.Differences {
		if d.B == "SCMP_ACT_ALLOW" {
			t.Errorf("the recording allows what RuntimeDefault does not: %+v", d)
		}
		if d.Syscall == "read" || d.Syscall == "execve" {
			t.Errorf("a recorded syscall differs: %+v", d)
		}
	}
	if code, stdout, _ := runCLI("profile", "diff", rec, rec); code != 0 || !strings.Contains(stdout, "same verdict") {
		t.Errorf("a profile against itself: exit %d\n%s", code, stdout)
	}
}
