package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/integration/probetest"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = dispatch(args, &out, &errb)
	return code, out.String(), errb.String()
}

const allowlist = `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
 "syscalls":[{"names":["read","write","exit_group","mkdirat"],"action":"SCMP_ACT_ALLOW"}]}`

func TestValidateBadInput(t *testing.T) {
	big := `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[` + strings.Repeat(`{"names":["read"],"action":"SCMP_ACT_ALLOW"},`, 250000) + `{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}`
	for _, tc := range []struct {
		name, content string
		code          int
		stderrHas     []string
	}{
		{"valid allowlist", allowlist, 0, nil},
		{"malformed JSON", `{"defaultAction": "SCMP_ACT_ERRNO",`, 1, []string{"line 1"}},
		{"wrong type", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":"read","action":"SCMP_ACT_ALLOW"}]}`, 1, []string{"syscalls[0].names"}},
		{"unknown field", `{"defaultAction":"SCMP_ACT_ERRNO","syscals":[]}`, 1, []string{"syscals", "unknown field"}},
		{"NUL in a name", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["mkdir\u0000x"],"action":"SCMP_ACT_ALLOW"}]}`, 1, []string{"syscalls[0].names[0]"}},
		{"10 MB profile", big, 1, []string{"1048576"}},
		{"unknown action", `{"defaultAction":"SCMP_ACT_MAYBE"}`, 1, []string{"defaultAction", "SCMP_ACT_MAYBE"}},
		{"arg index 6", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}`, 1, []string{"syscalls[0].args[0].index"}},
		{"errnoRet on ALLOW", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","errnoRet":1}]}`, 1, []string{"syscalls[0].errnoRet"}},
		{"listenerMetadata without listenerPath", `{"defaultAction":"SCMP_ACT_ERRNO","listenerMetadata":"x"}`, 1, []string{"listenerMetadata"}},
		{"NOTIFY as default", `{"defaultAction":"SCMP_ACT_NOTIFY","listenerPath":"/run/a.sock"}`, 1, []string{"defaultAction"}},
		{"unknown flag", `{"defaultAction":"SCMP_ACT_ERRNO","flags":["SECCOMP_FILTER_FLAG_FAST"]}`, 1, []string{"flags[0]"}},
		{"unknown arch", `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_VAX"]}`, 1, []string{"architectures[0]"}},
		{"only another machine's arch: a warning", `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_AARCH64"]}`, 0, []string{"lists no architecture of an x86 node"}},
		{"unknown syscall is only a warning", `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],"syscalls":[{"names":["read","no_such_call"],"action":"SCMP_ACT_ALLOW"}]}`, 0, []string{"warning", "no_such_call"}},
		{"empty file", ``, 1, []string{"empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "p.json", tc.content)
			code, stdout, stderr := runCLI("profile", "validate", path)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			for _, want := range tc.stderrHas {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr does not mention %q:\n%s", want, stderr)
				}
			}
			if tc.code != 0 && !strings.Contains(stderr, path) {
				t.Errorf("the error does not name the file %s:\n%s", path, stderr)
			}
		})
	}
}

func TestValidateStrictAndJSON(t *testing.T) {
	warn := writeFile(t, "w.json", `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}`)
	if code, _, _ := runCLI("profile", "validate", warn); code != 0 {
		t.Errorf("warnings alone must pass, got exit %d", code)
	}
	if code, _, _ := runCLI("profile", "validate", warn, "--strict"); code != 1 {
		t.Errorf("--strict must fail on warnings, got exit %d", code)
	}
	code, stdout, _ := runCLI("profile", "validate", "--output", "json", warn)
	var reports []validationReport
	if err := json.Unmarshal([]byte(stdout), &reports); err != nil || code != 0 {
		t.Fatalf("exit %d, JSON %v: %s", code, err, stdout)
	}
	if len(reports) != 1 || !reports[0].Valid || len(reports[0].Findings) == 0 || reports[0].Findings[0].Severity != "warning" {
		t.Errorf("unexpected report %+v", reports)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"frobnicate"},
		{"profile", "validate"},
		{"profile", "compile", "--format", "hex", "x.json"},
		{"exec", "--", "true"},
		{"profile", "explain", "--output", "yaml", "x.json"},
	} {
		if code, _, _ := runCLI(args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	if code, stdout, _ := runCLI("profile", "compile", "--help"); code != 0 || !strings.Contains(stdout, "--format") {
		t.Errorf("--help: exit %d, output %q", code, stdout)
	}
}

func TestCompileRawMatchesLibrary(t *testing.T) {
	path := writeFile(t, "p.json", allowlist)
	out := filepath.Join(t.TempDir(), "p.bpf")
	if code, _, stderr := runCLI("profile", "compile", path, "-o", out); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var p specs.LinuxSeccomp
	json.Unmarshal([]byte(allowlist), &p)
	prog, err := filter.Compile(&p, filter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, prog.Bytes()) {
		t.Errorf("the CLI wrote %d bytes, the library compiles %d", len(raw), len(prog.Bytes()))
	}
	code, stdout, _ := runCLI("profile", "compile", "--format", "disasm", "--arch", "x86_64", path)
	if code != 0 || !strings.Contains(stdout, "instructions") || !strings.Contains(stdout, "ret SCMP_ACT_ALLOW") {
		t.Errorf("disasm: exit %d\n%s", code, stdout)
	}
}

func TestExplain(t *testing.T) {
	path := writeFile(t, "p.json", `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],
		"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},
		{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}]}`)
	code, stdout, stderr := runCLI("profile", "explain", "--output", "json", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var all []filter.Explanation
	if err := json.Unmarshal([]byte(stdout), &all); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"SCMP_ARCH_X86_64/read":              "SCMP_ACT_ALLOW",
		"SCMP_ARCH_X86/read":                 "SCMP_ACT_ALLOW",
		"SCMP_ARCH_X86_64/mkdir":             "SCMP_ACT_ERRNO(1)",
		"SCMP_ARCH_X86_64/personality":       "depends on arguments",
		"SCMP_ARCH_X86_64/(unknown nr 1024)": "SCMP_ACT_ERRNO(38)",
	}
	got := map[string]string{}
	for _, e := range all {
		got[string(e.Arch)+"/"+e.Syscall] = e.Action
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	code, stdout, _ = runCLI("profile", "explain", path, "--arch", "x86", "--syscall", "read")
	if code != 0 || strings.Count(stdout, "\n") != 2 || !strings.Contains(stdout, "SCMP_ACT_ALLOW") {
		t.Errorf("one syscall on one arch: exit %d\n%s", code, stdout)
	}
}

// sysgate's own RuntimeDefault names syscalls newer than the linked
// libseccomp (mseal, listmount, statmount, ...): explain prints no warning
// about them, marks them as filtered by number, and shows them allowed on
// every ABI; validate notes them and passes even with --strict.
func TestRuntimeDefaultNewSyscalls(t *testing.T) {
	_, rd, _ := runCLI("profile", "default")
	path := writeFile(t, "rd.json", rd)
	code, stdout, stderr := runCLI("profile", "explain", "--output", "json", path)
	if code != 0 || stderr != "" {
		t.Fatalf("explain: exit %d, stderr %q", code, stderr)
	}
	var all []filter.Explanation
	if err := json.Unmarshal([]byte(stdout), &all); err != nil {
		t.Fatal(err)
	}
	byNumber := map[string]bool{}
	for _, e := range all {
		if e.Syscall == "mseal" || e.Syscall == "listmount" || e.Syscall == "statmount" {
			byNumber[string(e.Arch)+"/"+e.Syscall] = true
			_, filtered := filter.FilteredByNumber(e.Syscall, e.Arch)
			if e.Action != "SCMP_ACT_ALLOW" || e.ByNumber != filtered {
				t.Errorf("%s %s: %s, by number %v; want allowed, by number %v", e.Arch, e.Syscall, e.Action, e.ByNumber, filtered)
			}
		}
	}
	if len(byNumber) != 9 {
		t.Errorf("explain showed %v, want mseal, listmount and statmount on 3 ABIs", byNumber)
	}
	code, stdout, _ = runCLI("profile", "explain", path, "--syscall", "mseal")
	if _, filtered := filter.FilteredByNumber("mseal", specs.ArchX86_64); code != 0 || filtered != strings.Contains(stdout, "by number") {
		t.Errorf("text explain of mseal: exit %d, want the note \"by number\" exactly when sysgate filters it so:\n%s", code, stdout)
	}
	code, stdout, stderr = runCLI("profile", "validate", "--strict", path)
	if code != 0 || strings.Contains(stderr, "warning") || !strings.Contains(stdout, "valid (0 warnings, ") {
		t.Errorf("validate --strict: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

func TestDefaultProfile(t *testing.T) {
	code, stdout, _ := runCLI("profile", "default")
	var p specs.LinuxSeccomp
	if err := json.Unmarshal([]byte(stdout), &p); err != nil || code != 0 {
		t.Fatalf("exit %d: %v", code, err)
	}
	hasMount := func(p specs.LinuxSeccomp) bool {
		for _, s := range p.Syscalls {
			for _, n := range s.Names {
				if n == "mount" && s.Action == specs.ActAllow {
					return true
				}
			}
		}
		return false
	}
	if p.DefaultAction != specs.ActErrno || hasMount(p) {
		t.Errorf("default caps: defaultAction %s, mount allowed %v", p.DefaultAction, hasMount(p))
	}
	_, stdout, _ = runCLI("profile", "default", "--caps", "CAP_SYS_ADMIN")
	p = specs.LinuxSeccomp{}
	json.Unmarshal([]byte(stdout), &p)
	if !hasMount(p) {
		t.Error("with CAP_SYS_ADMIN mount must be allowed")
	}
	if code, _, _ := runCLI("profile", "default", "--caps", "CAP_NOPE"); code == 0 {
		t.Error("an unknown capability must be refused")
	}
}

// TestExec builds the real binary: exec replaces the process.
func TestExec(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the sysgate binary")
	}
	bin := filepath.Join(t.TempDir(), "sysgate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	block := writeFile(t, "block.json", `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`)
	dir := t.TempDir()

	out, err := exec.Command(bin, "exec", "--profile", block, "--", "mkdir", filepath.Join(dir, "x")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Operation not permitted") {
		t.Errorf("mkdir under the profile: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
		t.Error("the directory was created")
	}
	out, err = exec.Command(bin, "exec", "--profile", block, "cat", "/proc/self/status").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Seccomp:\t2") || !strings.Contains(string(out), "NoNewPrivs:\t1") {
		t.Errorf("status under the profile: %v\n%s", err, out)
	}

	// Issue 22: listmount and statmount are newer than libseccomp 2.5.4;
	// their rules are filtered by number (ENOSYS where the kernel lacks
	// them, as the kernel would answer).
	deny := writeFile(t, "deny.json", `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["listmount","statmount","mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}`)
	probePath := probetest.BuildForTest(t)
	for _, name := range []string{"listmount", "statmount"} {
		nr, _ := filter.SyscallNumber(name, specs.ArchX86_64)
		want := `"errname":"EACCES"`
		if filter.KernelLacks(name) {
			want = `"errname":"ENOSYS"`
		}
		out, err := exec.Command(bin, "exec", "--profile", deny, "--", probePath, strconv.Itoa(int(nr)), "0", "0", "0", "0").CombinedOutput()
		if err != nil || !strings.Contains(string(out), want) {
			t.Errorf("%s under the denylist: %v, want %s\n%s", name, err, want, out)
		}
	}

	// A profile that fails to compile runs nothing.
	conflict := writeFile(t, "conflict.json", `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":0,"op":"SCMP_CMP_EQ"}]},{"names":["mkdir"],"action":"SCMP_ACT_KILL"}]}`)
	marker := filepath.Join(dir, "ran")
	out, err = exec.Command(bin, "exec", "--profile", conflict, "touch", marker).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "nothing was run") {
		t.Errorf("conflicting profile: %v\n%s", err, out)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran although the profile did not compile")
	}
}
