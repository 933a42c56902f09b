package filter_test

// Kernel-level tests: each case loads a compiled filter into a child process
// that then execs the syscall probe, and compares three things: what the case
// expects, what the kernel did, and what the BPF interpreter says the filter
// returns. No root is needed: the loader sets no_new_privs.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/conformance/probe"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/bpf"
	"github.com/sysgate/sysgate/integration/probetest"
	"golang.org/x/sys/unix"
)

const loaderFlag = "-sysgate-test-loader"

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == loaderFlag {
		os.Exit(loaderMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// loaderMain is the test binary re-executed as a loader: BPF-FILE FLAGS --
// COMMAND...: it loads the raw program with filter.Load and execs COMMAND.
func loaderMain(args []string) int {
	runtime.LockOSThread()
	if len(args) < 4 || args[2] != "--" {
		fmt.Fprintln(os.Stderr, "loader: usage: BPF-FILE FLAGS -- COMMAND...")
		return 125
	}
	raw, err := os.ReadFile(args[0])
	if err == nil {
		var insns []bpf.Instruction
		var flags uint64
		insns, err = bpf.Decode(raw)
		if err == nil {
			flags, err = strconv.ParseUint(args[1], 10, 32)
		}
		if err == nil {
			_, err = filter.Load(&filter.Program{Instructions: insns, Flags: uint(flags)}, filter.LoadOptions{NoNewPrivs: true})
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loader:", err)
		return 125
	}
	err = syscall.Exec(args[3], args[3:], os.Environ())
	fmt.Fprintln(os.Stderr, "loader: exec:", err)
	return 126
}

func requireSeccomp(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/proc/sys/kernel/seccomp/actions_avail"); err != nil {
		t.Skip("this kernel has no seccomp filter support (no /proc/sys/kernel/seccomp/actions_avail)")
	}
}

// loaderFor writes the program where the loader can read it and returns the
// command prefix that runs something under it.
func loaderFor(t *testing.T, prog *filter.Program) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "filter.bpf")
	if err := os.WriteFile(path, prog.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{os.Args[0], loaderFlag, path, strconv.FormatUint(uint64(prog.Flags), 10), "--"}
}

func compileJSON(t *testing.T, profileJSON string) (*specs.LinuxSeccomp, *filter.Program) {
	t.Helper()
	var p specs.LinuxSeccomp
	if err := json.Unmarshal([]byte(profileJSON), &p); err != nil {
		t.Fatalf("test profile: %v", err)
	}
	prog, err := filter.Compile(&p, filter.Options{})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return &p, prog
}

// call is one syscall made by the probe. Arguments are integers (the
// interpreter sees them exactly) or "path", replaced by a fresh directory
// name for mkdir.
type call struct {
	abi  string
	name string
	nr   int64 // used when name is empty
	args []string
	want string // probe.Result.Outcome()
}

var dirCounter atomic.Int64

func (c call) number(t *testing.T) int64 {
	if c.name == "" {
		return c.nr
	}
	arch := map[string]specs.Arch{probe.ABINative: specs.ArchX86_64, "": specs.ArchX86_64, "i386": specs.ArchX86, "x32": specs.ArchX32}[c.abi]
	nr, ok := filter.SyscallNumber(c.name, arch)
	if !ok {
		t.Fatalf("no number for %s on %s", c.name, arch)
	}
	return int64(nr &^ bpf.X32SyscallBit)
}

func (c call) argv(dir string) []string {
	out := make([]string, len(c.args))
	for i, a := range c.args {
		if a == "path" {
			a = "s:" + filepath.Join(dir, fmt.Sprintf("d%d", dirCounter.Add(1)))
		}
		out[i] = a
	}
	return out
}

// intArgs is what the filter sees in seccomp_data.args for integer
// arguments; a path is a pointer the test cannot predict, and no filter in
// these tests looks at it.
func (c call) intArgs(t *testing.T) [6]uint64 {
	var out [6]uint64
	for i, a := range c.args {
		if a == "path" {
			continue
		}
		v, err := strconv.ParseUint(a, 0, 64)
		if err != nil {
			t.Fatalf("argument %q: %v", a, err)
		}
		out[i] = v
	}
	return out
}

// interpreterOutcome is what the interpreter's verdict means for the probe,
// with allowed calls resolved by running them unfiltered.
func interpreterOutcome(t *testing.T, probePath, dir string, prog *filter.Program, c call) (string, uint32) {
	t.Helper()
	arch := map[string]specs.Arch{"": specs.ArchX86_64, probe.ABINative: specs.ArchX86_64, "i386": specs.ArchX86, "x32": specs.ArchX32}[c.abi]
	audit, bits, err := filter.AuditArch(arch)
	if err != nil {
		t.Fatal(err)
	}
	ret, _, err := bpf.Run(prog.Instructions, bpf.SeccompData{Nr: int32(c.number(t)) | bits, Arch: audit, Args: c.intArgs(t)})
	if err != nil {
		t.Fatalf("interpreter: %v", err)
	}
	switch bpf.RetAction(ret) {
	case bpf.RetAllow, bpf.RetLog:
		r, err := probe.Run(context.Background(), probePath, nil, c.abi, c.number(t), c.argv(dir)...)
		if err != nil {
			t.Fatal(err)
		}
		return r.Outcome(), ret
	case bpf.RetErrno:
		return "errno:" + unix.ErrnoName(syscall.Errno(ret&bpf.RetData)), ret
	case bpf.RetTrap:
		return probe.OutcomeTrap, ret
	case bpf.RetTrace, bpf.RetUserNotif:
		// No tracer and no listener: the kernel fails the call with ENOSYS.
		return "errno:ENOSYS", ret
	default:
		return "killed:SIGSYS", ret
	}
}

func runCases(t *testing.T, profileJSON string, calls []call) {
	t.Helper()
	requireSeccomp(t)
	probePath := probetest.BuildForTest(t)
	_, prog := compileJSON(t, profileJSON)
	wrap := loaderFor(t, prog)
	dir := t.TempDir()
	for _, c := range calls {
		label := c.name
		if label == "" {
			label = "nr" + strconv.FormatInt(c.nr, 10)
		}
		t.Run(fmt.Sprintf("%s/%s/%s", c.abi, label, strings.Join(c.args, ",")), func(t *testing.T) {
			if c.abi == probe.ABII386 {
				requireABI(t, filter.ABII386)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r, err := probe.Run(ctx, probePath, wrap, c.abi, c.number(t), c.argv(dir)...)
			if err != nil {
				t.Fatal(err)
			}
			got := r.Outcome()
			if got != c.want {
				t.Errorf("kernel: %s, want %s", got, c.want)
			}
			interp, ret := interpreterOutcome(t, probePath, dir, prog, c)
			if interp != got {
				t.Errorf("interpreter says %s (%s), but the kernel did %s", interp, bpf.RetName(ret), got)
			}
		})
	}
}

// baseSyscalls is what the loader (after the filter is loaded) and the
// static probe need to exec and report, for allowlist profiles.
const baseSyscalls = `"read","write","close","exit","exit_group","execve","brk","arch_prctl","mmap","munmap","mprotect",
	"rt_sigaction","rt_sigprocmask","rt_sigreturn","set_tid_address","set_robust_list","rseq","prlimit64",
	"getrandom","uname","readlink","readlinkat","newfstatat","fstat","openat","getppid","futex","sigaltstack","gettid","tgkill","getpid"`

func blockMkdir(action, extra string) string {
	return `{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
		"syscalls":[{"names":["mkdir","mkdirat"],"action":"` + action + `"` + extra + `}]}`
}

func TestKernelActions(t *testing.T) {
	mkdir := func(want string) []call {
		return []call{{name: "mkdir", args: []string{"path", "493"}, want: want}, {name: "getppid", want: "allowed"}}
	}
	for _, tc := range []struct {
		name, profile string
		calls         []call
	}{
		{"errno is EPERM by default", blockMkdir("SCMP_ACT_ERRNO", ""), mkdir("errno:EPERM")},
		{"custom errnoRet", blockMkdir("SCMP_ACT_ERRNO", `,"errnoRet":13`), mkdir("errno:EACCES")},
		{"trap sends SIGSYS", blockMkdir("SCMP_ACT_TRAP", ""), mkdir("trap")},
		{"kill_process", blockMkdir("SCMP_ACT_KILL_PROCESS", ""), mkdir("killed:SIGSYS")},
		{"kill_thread", blockMkdir("SCMP_ACT_KILL_THREAD", ""), mkdir("killed:SIGSYS")},
		{"kill", blockMkdir("SCMP_ACT_KILL", ""), mkdir("killed:SIGSYS")},
		{"log allows", blockMkdir("SCMP_ACT_LOG", ""), mkdir("allowed")},
		{"trace without a tracer is ENOSYS", blockMkdir("SCMP_ACT_TRACE", ""), mkdir("errno:ENOSYS")},
		{"defaultErrnoRet and the ENOSYS stub",
			`{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":5,"syscalls":[{"names":[` + baseSyscalls + `],"action":"SCMP_ACT_ALLOW"}]}`,
			[]call{
				{name: "mkdir", args: []string{"path", "493"}, want: "errno:EIO"},
				{name: "getppid", want: "allowed"},
				{name: "clone3", args: []string{"0", "0"}, want: "errno:ENOSYS"}, // 435: above the profile's highest
				{nr: 1000, want: "errno:ENOSYS"},
			}},
		{"default errno is EPERM, newer syscalls ENOSYS",
			`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":[` + baseSyscalls + `],"action":"SCMP_ACT_ALLOW"}]}`,
			[]call{
				{name: "mkdir", args: []string{"path", "493"}, want: "errno:EPERM"},
				{name: "clone3", args: []string{"0", "0"}, want: "errno:ENOSYS"},
				{nr: 1000, want: "errno:ENOSYS"},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) { runCases(t, tc.profile, tc.calls) })
	}
}

func TestKernelArgumentOperators(t *testing.T) {
	rule := func(args string) string {
		return `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getppid"],"action":"SCMP_ACT_ERRNO","args":[` + args + `]}]}`
	}
	for _, tc := range []struct {
		name, args string
		calls      []call
	}{
		{"EQ", `{"index":0,"value":5,"op":"SCMP_CMP_EQ"}`, []call{
			{name: "getppid", args: []string{"5"}, want: "errno:EPERM"},
			{name: "getppid", args: []string{"6"}, want: "allowed"}}},
		{"NE", `{"index":1,"value":7,"op":"SCMP_CMP_NE"}`, []call{
			{name: "getppid", args: []string{"0", "7"}, want: "allowed"},
			{name: "getppid", args: []string{"0", "8"}, want: "errno:EPERM"}}},
		{"LT", `{"index":2,"value":10,"op":"SCMP_CMP_LT"}`, []call{
			{name: "getppid", args: []string{"0", "0", "9"}, want: "errno:EPERM"},
			{name: "getppid", args: []string{"0", "0", "10"}, want: "allowed"}}},
		{"LE", `{"index":3,"value":10,"op":"SCMP_CMP_LE"}`, []call{
			{name: "getppid", args: []string{"0", "0", "0", "10"}, want: "errno:EPERM"},
			{name: "getppid", args: []string{"0", "0", "0", "11"}, want: "allowed"}}},
		{"GT on 64 bits", `{"index":4,"value":4294967296,"op":"SCMP_CMP_GT"}`, []call{
			{name: "getppid", args: []string{"0", "0", "0", "0", "0x100000001"}, want: "errno:EPERM"},
			{name: "getppid", args: []string{"0", "0", "0", "0", "0x100000000"}, want: "allowed"},
			{name: "getppid", args: []string{"0", "0", "0", "0", "0xffffffff"}, want: "allowed"}}},
		{"GE", `{"index":5,"value":3,"op":"SCMP_CMP_GE"}`, []call{
			{name: "getppid", args: []string{"0", "0", "0", "0", "0", "3"}, want: "errno:EPERM"},
			{name: "getppid", args: []string{"0", "0", "0", "0", "0", "2"}, want: "allowed"}}},
		{"MASKED_EQ", `{"index":0,"value":65280,"valueTwo":4608,"op":"SCMP_CMP_MASKED_EQ"}`, []call{
			{name: "getppid", args: []string{"0x12ab"}, want: "errno:EPERM"},
			{name: "getppid", args: []string{"0x13ab"}, want: "allowed"}}},
		{"distinct indexes are ANDed", `{"index":0,"value":1,"op":"SCMP_CMP_EQ"},{"index":1,"value":2,"op":"SCMP_CMP_EQ"}`, []call{
			{name: "getppid", args: []string{"1", "2"}, want: "errno:EPERM"},
			{name: "getppid", args: []string{"1", "3"}, want: "allowed"},
			{name: "getppid", args: []string{"0", "2"}, want: "allowed"}}},
		{"a repeated index is ORed", `{"index":0,"value":1,"op":"SCMP_CMP_EQ"},{"index":0,"value":2,"op":"SCMP_CMP_EQ"}`, []call{
			{name: "getppid", args: []string{"1"}, want: "errno:EPERM"},
			{name: "getppid", args: []string{"2"}, want: "errno:EPERM"},
			{name: "getppid", args: []string{"3"}, want: "allowed"}}},
	} {
		t.Run(tc.name, func(t *testing.T) { runCases(t, rule(tc.args), tc.calls) })
	}
}

// TestKernelABIBypass: a 64-bit process may enter the kernel through the
// i386 gate (int $0x80) or with the x32 bit set. A filter that blocks mkdir
// must block it through every door, whether the profile lists the other
// ABIs (same rules) or not (the bad-arch action kills the process).
func TestKernelABIBypass(t *testing.T) {
	requireSeccomp(t)
	x32Live := filter.HostABI(filter.ABIX32).Live
	x32Blocked := "errno:EPERM"
	onlyX86_64 := `{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`

	t.Run("all three arches", func(t *testing.T) {
		runCases(t, blockMkdir("SCMP_ACT_ERRNO", ""), []call{
			{name: "mkdir", args: []string{"path", "493"}, want: "errno:EPERM"},
			{abi: "i386", name: "mkdir", args: []string{"path", "493"}, want: "errno:EPERM"},
			{abi: "i386", name: "getppid", want: "allowed"},
			{abi: "x32", name: "mkdir", args: []string{"path", "493"}, want: x32Blocked},
		})
	})
	t.Run("x86_64 only", func(t *testing.T) {
		x32Want := "killed:SIGSYS"
		runCases(t, onlyX86_64, []call{
			{name: "mkdir", args: []string{"path", "493"}, want: "errno:EPERM"},
			{abi: "i386", name: "mkdir", args: []string{"path", "493"}, want: "killed:SIGSYS"},
			{abi: "i386", name: "getppid", want: "killed:SIGSYS"},
			{abi: "x32", name: "mkdir", args: []string{"path", "493"}, want: x32Want},
		})
	})
	if !x32Live {
		t.Log("x32 is disabled in this kernel: the x32 calls were refused by the filter before the kernel's own ENOSYS; the VM tier boots a kernel with syscall.x32=y")
	}
}

// TestKernelStatus proves through /proc/self/status that the probe runs with
// exactly one filter and no_new_privs.
func TestKernelStatus(t *testing.T) {
	requireSeccomp(t)
	probePath := probetest.BuildForTest(t)
	_, prog := compileJSON(t, blockMkdir("SCMP_ACT_ERRNO", ""))
	st, err := probe.ReadStatus(context.Background(), probePath, loaderFor(t, prog))
	if err != nil {
		t.Fatal(err)
	}
	if st.Seccomp != 2 || st.SeccompFilters != 1 || st.NoNewPrivs != 1 {
		t.Errorf("status = %+v, want Seccomp 2, one filter, NoNewPrivs 1", st)
	}
}
