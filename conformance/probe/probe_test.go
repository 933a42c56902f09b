package probe_test

import (
	"bufio"
	"context"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sysgate/sysgate/conformance/probe"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/integration/probetest"
)

// Syscall numbers used below, each in its own ABI's table.
const (
	nrMkdirNative   = 83
	nrGetppidNative = 110
	nrMkdirI386     = 39
	nrGetppidI386   = 64
	nrGetppidX32    = 110 // x32 shares the x86_64 numbers; the probe adds 0x40000000
	nrUnknown       = 1000
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func run(t *testing.T, abi string, nr int64, args ...string) probe.Result {
	t.Helper()
	res, err := probe.Run(testCtx(t), probetest.BuildForTest(t), nil, abi, nr, args...)
	if err != nil {
		t.Fatalf("probe %s %d %v: %v", abi, nr, args, err)
	}
	return res
}

// requireI386 skips only on a kernel without IA-32 emulation (filter's ABI
// probe says why), and logs the ABI-RAN/ABI-SKIP line the VM tier counts.
func requireI386(t *testing.T) {
	t.Helper()
	if st := filter.HostABI(filter.ABII386); !st.Live {
		t.Logf("ABI-SKIP abi=i386")
		t.Skipf("this kernel offers no i386 ABI (%s); the VM tier's kernels have it and run this test", st.Reason)
	}
	t.Logf("ABI-RAN abi=i386")
}

func TestNative(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing")
	if err := os.Mkdir(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	pid := int64(os.Getpid())

	tests := []struct {
		name    string
		abi     string
		nr      int64
		args    []string
		i386    bool
		outcome string
		ret     *int64 // checked when non-nil
		created string // a directory the call must have made
	}{
		{name: "getppid", abi: probe.ABINative, nr: nrGetppidNative, outcome: probe.OutcomeAllowed, ret: &pid},
		{name: "mkdir", abi: probe.ABINative, nr: nrMkdirNative, args: []string{"s:" + filepath.Join(dir, "a"), "0x1ed"},
			outcome: probe.OutcomeAllowed, created: filepath.Join(dir, "a")},
		{name: "mkdir existing", abi: probe.ABINative, nr: nrMkdirNative, args: []string{"s:" + existing, "493"}, outcome: "errno:EEXIST"},
		{name: "unknown nr", abi: probe.ABINative, nr: nrUnknown, outcome: "errno:ENOSYS"},
		{name: "default abi", abi: "", nr: nrGetppidNative, outcome: probe.OutcomeAllowed, ret: &pid},
		{name: "i386 getppid", abi: probe.ABII386, nr: nrGetppidI386, i386: true, outcome: probe.OutcomeAllowed, ret: &pid},
		// The path is only reachable if the probe put the string below 4 GiB.
		{name: "i386 mkdir", abi: probe.ABII386, nr: nrMkdirI386, args: []string{"s:" + filepath.Join(dir, "b"), "0x1ed"}, i386: true,
			outcome: probe.OutcomeAllowed, created: filepath.Join(dir, "b")},
		{name: "i386 mkdir existing", abi: probe.ABII386, nr: nrMkdirI386, args: []string{"s:" + existing, "0x1ed"}, i386: true,
			outcome: "errno:EEXIST"},
		{name: "i386 unknown nr", abi: probe.ABII386, nr: nrUnknown, i386: true, outcome: "errno:ENOSYS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.i386 {
				requireI386(t)
			}
			res := run(t, tc.abi, tc.nr, tc.args...)
			if got := res.Outcome(); got != tc.outcome {
				t.Fatalf("outcome %s, want %s (result %+v)", got, tc.outcome, res)
			}
			wantABI := tc.abi
			if wantABI == "" {
				wantABI = probe.ABINative
			}
			if res.ABI != wantABI || res.Nr != tc.nr {
				t.Errorf("report names abi %q nr %d, want %q %d", res.ABI, res.Nr, wantABI, tc.nr)
			}
			if tc.ret != nil && res.Ret != *tc.ret {
				t.Errorf("ret %d, want %d", res.Ret, *tc.ret)
			}
			if tc.outcome != probe.OutcomeAllowed && res.Ret != -1 {
				t.Errorf("failed call reports ret %d, want -1", res.Ret)
			}
			if tc.created != "" {
				if fi, err := os.Stat(tc.created); err != nil || !fi.IsDir() {
					t.Errorf("directory %s not created: %v", tc.created, err)
				}
			}
		})
	}
}

// x32 is off in most kernels (CONFIG_X86_X32_ABI unset, or syscall.x32=n):
// then the kernel rejects nr|0x40000000 with ENOSYS.
func TestX32Getppid(t *testing.T) {
	res := run(t, probe.ABIX32, nrGetppidX32)
	switch out := res.Outcome(); out {
	case "errno:ENOSYS":
		t.Log("x32 is disabled on this kernel: ENOSYS")
	case probe.OutcomeAllowed:
		if res.Ret != int64(os.Getpid()) {
			t.Errorf("x32 getppid returned %d, want %d", res.Ret, os.Getpid())
		}
		t.Log("x32 is enabled on this kernel: getppid succeeded")
	default:
		t.Fatalf("x32 getppid: outcome %s, want errno:ENOSYS or allowed (result %+v)", out, res)
	}
}

func TestRepeat(t *testing.T) {
	cmd := exec.Command(probetest.BuildForTest(t), "--repeat", "50", strconv.Itoa(nrGetppidNative))
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	res, err := probe.Parse(out, cmd.ProcessState)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome() != probe.OutcomeAllowed || res.Ret != int64(os.Getpid()) {
		t.Errorf("--repeat 50 getppid: %+v", res)
	}
}

// The wrapper is a command prefix that execs the probe: the probe's parent
// stays the test process.
func TestRunWrap(t *testing.T) {
	env, err := exec.LookPath("env")
	if err != nil {
		t.Skip("no env(1)")
	}
	res, err := probe.Run(testCtx(t), probetest.BuildForTest(t), []string{env, "LC_ALL=C"}, probe.ABINative, nrGetppidNative)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome() != probe.OutcomeAllowed || res.Ret != int64(os.Getpid()) {
		t.Errorf("getppid through env: %+v", res)
	}
}

// ownStatus reads this process's seccomp state: the probe inherits it.
func ownStatus(t *testing.T) probe.Status {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := probe.Status{Seccomp: -1, SeccompFilters: -1, NoNewPrivs: -1}
	fields := map[string]*int{"Seccomp:": &s.Seccomp, "Seccomp_filters:": &s.SeccompFilters, "NoNewPrivs:": &s.NoNewPrivs}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "\t"); ok && fields[k] != nil {
			if *fields[k], err = strconv.Atoi(strings.TrimSpace(v)); err != nil {
				t.Fatalf("/proc/self/status %q: %v", sc.Text(), err)
			}
		}
	}
	return s
}

func TestStatus(t *testing.T) {
	got, err := probe.ReadStatus(testCtx(t), probetest.BuildForTest(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := ownStatus(t)
	t.Logf("probe status %+v, test process %+v", got, want)
	if got != want {
		t.Errorf("probe reports %+v, the test process (its parent, whose filters it inherits) has %+v", got, want)
	}
	if want.Seccomp != 0 {
		t.Skipf("the test itself runs under seccomp mode %d: cannot check the unfiltered case", want.Seccomp)
	}
	if got.Seccomp != 0 || got.SeccompFilters > 0 {
		t.Errorf("unfiltered probe reports Seccomp %d, Seccomp_filters %d; want 0, 0", got.Seccomp, got.SeccompFilters)
	}
}

func TestParseStatus(t *testing.T) {
	for in, ok := range map[string]bool{
		`{"seccomp":2,"seccomp_filters":1,"no_new_privs":1}` + "\n": true,
		`{"seccomp":2,"seccomp_filters":1}`:                         false,
		`{"abi":"native","nr":1,"ret":0,"errno":0,"errname":""}`:    false,
		"":     false,
		"junk": false,
	} {
		s, err := probe.ParseStatus([]byte(in))
		if (err == nil) != ok {
			t.Errorf("ParseStatus(%q) = %+v, %v; want ok=%v", in, s, err, ok)
		}
		if ok && s != (probe.Status{Seccomp: 2, SeccompFilters: 1, NoNewPrivs: 1}) {
			t.Errorf("ParseStatus(%q) = %+v", in, s)
		}
	}
}

// A process killed by SIGSYS, as SECCOMP_RET_KILL_PROCESS leaves it.
func TestParseKilledBySIGSYS(t *testing.T) {
	cmd := exec.Command("sh", "-c", "kill -SYS $$")
	out, err := cmd.Output()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("sh -c 'kill -SYS $$': %v, want a signal exit", err)
	}
	res, err := probe.Parse(out, cmd.ProcessState)
	if err != nil {
		t.Fatal(err)
	}
	if res.KilledBy != "SIGSYS" || res.Outcome() != "killed:SIGSYS" {
		t.Errorf("got KilledBy %q, outcome %s; want SIGSYS, killed:SIGSYS", res.KilledBy, res.Outcome())
	}

	// The same through Run: sh takes the probe's command line as $0, $1...
	res, err = probe.Run(testCtx(t), probetest.BuildForTest(t), []string{"sh", "-c", "kill -SYS $$"}, probe.ABINative, nrGetppidNative)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome() != "killed:SIGSYS" {
		t.Errorf("Run under a wrapper killed by SIGSYS: outcome %s, want killed:SIGSYS", res.Outcome())
	}
}

// Parse against real wait statuses: sh prints $1 and exits with $2.
func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		stdout  string
		exit    int
		outcome string // empty: Parse must fail
		check   func(probe.Result) bool
	}{
		{name: "allowed", stdout: `{"abi":"native","nr":39,"ret":1234,"errno":0,"errname":""}`, outcome: "allowed",
			check: func(r probe.Result) bool { return r.Ret == 1234 && r.Nr == 39 && r.ABI == "native" }},
		{name: "errno", stdout: `{"abi":"native","nr":83,"ret":-1,"errno":1,"errname":"EPERM"}`, outcome: "errno:EPERM",
			check: func(r probe.Result) bool { return r.Ret == -1 && r.Errno == 1 }},
		{name: "unnamed errno", stdout: `{"abi":"i386","nr":39,"ret":-1,"errno":133,"errname":""}`, outcome: "errno:E133"},
		{name: "trap", stdout: `{"abi":"native","nr":83,"signal":"SIGSYS","si_code":1,"si_syscall":83,"si_arch":3221225534,"si_errno":5}`,
			outcome: "trap",
			check: func(r probe.Result) bool {
				return r.Signal == "SIGSYS" && r.SiSyscall == 83 && r.SiArch == 0xc000003e && r.SiErrno == 5
			}},
		{name: "x32 trap", stdout: `{"abi":"x32","nr":110,"signal":"SIGSYS","si_code":1,"si_syscall":1073741934,"si_arch":3221225534,"si_errno":0}`,
			outcome: "trap", check: func(r probe.Result) bool { return r.SiSyscall == 0x40000000|110 && r.Nr == 110 }},
		{name: "SIGSYS not from seccomp", stdout: `{"abi":"native","nr":83,"signal":"SIGSYS","si_code":0,"si_syscall":0,"si_arch":0,"si_errno":0}`,
			outcome: "signal:SIGSYS"},
		{name: "wrapper chatter before the report", stdout: "loading filter\n" + `{"abi":"native","nr":83,"ret":0,"errno":0,"errname":""}` + "\n",
			outcome: "allowed"},
		{name: "no output", stdout: ""},
		{name: "garbage", stdout: "hello"},
		{name: "unknown field", stdout: `{"abi":"native","nr":83,"ret":0,"errno":0,"errname":"","extra":1}`},
		{name: "neither ret nor signal", stdout: `{"abi":"native","nr":83}`},
		{name: "no abi", stdout: `{"nr":83,"ret":0}`},
		{name: "usage error", stdout: "", exit: 2},
		{name: "report then failure", stdout: `{"abi":"native","nr":39,"ret":1,"errno":0,"errname":""}`, exit: 1},
	}
	if _, err := probe.Parse([]byte(tests[0].stdout), nil); err == nil {
		t.Error("Parse accepted a nil process state")
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("sh", "-c", `printf '%s' "$1"; exit "$2"`, "sh", tc.stdout, strconv.Itoa(tc.exit))
			out, _ := cmd.Output()
			res, err := probe.Parse(out, cmd.ProcessState)
			if tc.outcome == "" {
				if err == nil {
					t.Fatalf("Parse accepted %q (exit %d): %+v", tc.stdout, tc.exit, res)
				}
				t.Logf("rejected as expected: %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Outcome(); got != tc.outcome {
				t.Errorf("outcome %s, want %s (%+v)", got, tc.outcome, res)
			}
			if tc.check != nil && !tc.check(res) {
				t.Errorf("unexpected result %+v", res)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	path := probetest.BuildForTest(t)
	// A usage error is an error, and carries the probe's stderr.
	if _, err := probe.Run(testCtx(t), path, nil, "sparc", nrGetppidNative); err == nil || !strings.Contains(err.Error(), "--abi must be") {
		t.Errorf("Run with a bad ABI: %v, want the probe's usage error", err)
	}
	if _, err := probe.Run(testCtx(t), path, nil, probe.ABII386, nrMkdirI386, "0x100000000"); err == nil {
		t.Error("Run accepted an i386 argument wider than 32 bits")
	}
	if _, err := probe.Run(testCtx(t), filepath.Join(t.TempDir(), "missing"), nil, probe.ABINative, nrGetppidNative); err == nil {
		t.Error("Run of a missing binary succeeded")
	}
	// A timeout is an error, not a "killed:SIGKILL" result.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := probe.Run(ctx, path, []string{"sh", "-c", "exec sleep 10"}, probe.ABINative, nrGetppidNative); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run past its deadline: %v, want context.DeadlineExceeded", err)
	}
}

func TestBuild(t *testing.T) {
	dir := t.TempDir()
	path, err := probe.Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, probe.BinaryName) {
		t.Errorf("Build returned %s, want %s", path, filepath.Join(dir, probe.BinaryName))
	}
	if a, b := probetest.BuildForTest(t), probetest.BuildForTest(t); a != b {
		t.Errorf("BuildForTest built twice: %s, %s", a, b)
	}
	// Statically linked, so that it runs in an empty container rootfs: no
	// PT_INTERP, hence no dynamic loader.
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the probe has a PT_INTERP header: it is not statically linked")
		}
	}
}

// ParseShell reads what a shell in a container saw: the report and $?.
func TestParseShell(t *testing.T) {
	for _, tc := range []struct {
		out    string
		status int
		want   string
		err    bool
	}{
		{`{"abi":"native","nr":83,"ret":-1,"errno":1,"errname":"EPERM"}`, 0, "errno:EPERM", false},
		{`{"abi":"native","nr":83,"ret":0,"errno":0,"errname":""}`, 0, "allowed", false},
		{"", 128 + 31, "killed:SIGSYS", false},
		{"", 1, "", true},
		{"not json", 0, "", true},
		{`{"abi":"native","nr":83,"ret":0,"errno":0,"errname":""}`, 2, "", true},
	} {
		res, err := probe.ParseShell([]byte(tc.out), tc.status)
		if (err != nil) != tc.err || (err == nil && res.Outcome() != tc.want) {
			t.Errorf("ParseShell(%q, %d) = %q, %v; want %q (error %v)", tc.out, tc.status, res.Outcome(), err, tc.want, tc.err)
		}
	}
}
