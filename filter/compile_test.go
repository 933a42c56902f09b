package filter_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/bpf"
	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/profile"
	"golang.org/x/sys/unix"
)

func parse(t testing.TB, js string) *specs.LinuxSeccomp {
	t.Helper()
	var p specs.LinuxSeccomp
	if err := json.Unmarshal([]byte(js), &p); err != nil {
		t.Fatal(err)
	}
	return &p
}

func TestCompileRefuses(t *testing.T) {
	for _, tc := range []struct{ name, profile, want string }{
		{"unknown default action", `{"defaultAction":"SCMP_ACT_PERHAPS"}`, "defaultAction"},
		{"NOTIFY default", `{"defaultAction":"SCMP_ACT_NOTIFY"}`, "SCMP_ACT_NOTIFY cannot be used as default action"},
		{"errnoRet on ALLOW", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","errnoRet":1}]}`, "syscalls[0].action: errnoRet is set on SCMP_ACT_ALLOW"},
		{"errno above MAX_ERRNO", `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":5000}`, "MAX_ERRNO"},
		{"unknown operator", `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_ABOUT"}]}]}`, "syscalls[0].args: [0].op"},
		{"arg index 6", `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}`, "[0].index: 6 is out of range"},
		{"unknown flag", `{"defaultAction":"SCMP_ACT_ERRNO","flags":["SECCOMP_FILTER_FLAG_TURBO"]}`, "flags[0]"},
		{"an arch libseccomp does not know", `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_VAX"]}`, "architectures[1]"},
		{"WAIT_KILLABLE_RECV without NOTIFY", `{"defaultAction":"SCMP_ACT_ERRNO","flags":["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}`, "no rule uses SCMP_ACT_NOTIFY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := filter.Compile(parse(t, tc.profile), filter.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestFirstRuleWins: a later unconditional rule for the same syscall has
// no effect, as in libseccomp and runc, in every layout.
func TestFirstRuleWins(t *testing.T) {
	for _, opts := range []filter.Options{{}, {Joint: true}, {Optimize: filter.OptimizeLinear, Joint: true}} {
		prog, err := filter.Compile(parse(t, `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],
			"syscalls":[{"names":["setns","read"],"action":"SCMP_ACT_ALLOW"},{"names":["setns"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}`), opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, arch := range []specs.Arch{specs.ArchX86_64, specs.ArchX86} {
			nr, _ := filter.SyscallNumber("setns", arch)
			audit, _, _ := filter.AuditArch(arch)
			if ret, _, _ := bpf.Run(prog.Instructions, bpf.SeccompData{Nr: nr, Arch: audit}); ret != bpf.RetAllow {
				t.Errorf("%+v %s: setns %s, want the first rule's ALLOW", opts, arch, bpf.RetName(ret))
			}
		}
	}
}

func TestCompileFlags(t *testing.T) {
	for _, tc := range []struct {
		name, profile string
		want          []string
	}{
		{"absent flags mean SPEC_ALLOW", `{"defaultAction":"SCMP_ACT_ERRNO"}`, []string{"SECCOMP_FILTER_FLAG_SPEC_ALLOW"}},
		{"explicit empty flags mean none", `{"defaultAction":"SCMP_ACT_ERRNO","flags":[]}`, []string{}},
		{"LOG and TSYNC", `{"defaultAction":"SCMP_ACT_ERRNO","flags":["SECCOMP_FILTER_FLAG_LOG","SECCOMP_FILTER_FLAG_TSYNC"]}`, []string{"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG"}},
		{"NOTIFY adds NEW_LISTENER", `{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/a","flags":[],"syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}`, []string{"SECCOMP_FILTER_FLAG_NEW_LISTENER"}},
		{"NOTIFY with TSYNC adds TSYNC_ESRCH", `{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/a","flags":["SECCOMP_FILTER_FLAG_TSYNC"],"syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}`, []string{"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_NEW_LISTENER", "SECCOMP_FILTER_FLAG_TSYNC_ESRCH"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog, err := filter.Compile(parse(t, tc.profile), filter.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := prog.FlagNames(); strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("flags %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCompileArchesAndIgnored(t *testing.T) {
	prog, err := filter.Compile(parse(t, `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86","SCMP_ARCH_X86"],
		"syscalls":[{"names":["read","no_such_syscall"],"action":"SCMP_ACT_ALLOW"}]}`), filter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := prog.Arches; len(got) != 2 || got[0] != specs.ArchX86_64 || got[1] != specs.ArchX86 {
		t.Errorf("arches %v: want the native arch first, each once", got)
	}
	if len(prog.Ignored) != 1 || prog.Ignored[0] != "no_such_syscall" {
		t.Errorf("ignored %v", prog.Ignored)
	}
	override, err := filter.Compile(parse(t, `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86"]}`), filter.Options{Arches: []specs.Arch{specs.ArchX32}})
	if err != nil || len(override.Arches) != 2 || override.Arches[1] != specs.ArchX32 {
		t.Errorf("--arch override: %v %v", override.Arches, err)
	}
}

// TestENOSYSStub checks the stub's verdicts per ABI through the interpreter:
// numbers above the profile's highest return ENOSYS, numbers below take the
// profile's action, and permissive profiles get no stub.
func TestENOSYSStub(t *testing.T) {
	enosys := bpf.RetErrno | uint32(unix.ENOSYS)
	eperm := bpf.RetErrno | uint32(unix.EPERM)
	profile := parse(t, `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
		"syscalls":[{"names":["read","write","getppid"],"action":"SCMP_ACT_ALLOW"}]}`)
	prog, err := filter.Compile(profile, filter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if prog.StubLength == 0 {
		t.Fatal("no ENOSYS stub")
	}
	for _, tc := range []struct {
		arch specs.Arch
		nr   int32
		want uint32
	}{
		{specs.ArchX86_64, 110, bpf.RetAllow}, // getppid, the highest named
		{specs.ArchX86_64, 83, eperm},         // mkdir, below it
		{specs.ArchX86_64, 111, enosys},
		{specs.ArchX86_64, 435, enosys},
		{specs.ArchX86, 64, bpf.RetAllow}, // getppid on i386
		{specs.ArchX86, 39, eperm},
		{specs.ArchX86, 65, enosys},
		{specs.ArchX32, 110, bpf.RetAllow},
		{specs.ArchX32, 83, eperm},
		{specs.ArchX32, 200, enosys},
	} {
		audit, bits, _ := filter.AuditArch(tc.arch)
		ret, _, err := bpf.Run(prog.Instructions, bpf.SeccompData{Nr: tc.nr | bits, Arch: audit})
		if err != nil || ret != tc.want {
			t.Errorf("%s nr %d: %s, want %s (%v)", tc.arch, tc.nr, bpf.RetName(ret), bpf.RetName(tc.want), err)
		}
	}
	for _, permissive := range []string{
		`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}`,
		`{"defaultAction":"SCMP_ACT_LOG","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}`,
	} {
		if prog, err := filter.Compile(parse(t, permissive), filter.Options{}); err != nil || prog.StubLength != 0 {
			t.Errorf("%s: stub of %d instructions (%v)", permissive, prog.StubLength, err)
		}
	}
}

// TestTreeMatchesLinear: the binary-tree layout gives the same verdict as
// the linear one for every (arch, syscall) and sampled arguments, on
// containerd's RuntimeDefault profile with every capability.
func TestTreeMatchesLinear(t *testing.T) {
	profile := profile.RuntimeDefault(spec.CurrentCapabilities())
	linear, err := filter.Compile(profile, filter.Options{Optimize: filter.OptimizeLinear})
	if err != nil {
		t.Fatal(err)
	}
	tree, err := filter.Compile(profile, filter.Options{Optimize: filter.OptimizeBinaryTree})
	if err != nil {
		t.Fatal(err)
	}
	compared := assertSameVerdicts(t, profile, linear, tree)
	t.Logf("%d verdicts compared; linear %d instructions, tree %d", compared, len(linear.Instructions), len(tree.Instructions))
}

// assertSameVerdicts runs both programs over every syscall number of every
// x86 ABI (plus numbers past the tables) with argument samples.
func assertSameVerdicts(t *testing.T, profile *specs.LinuxSeccomp, a, b *filter.Program) int {
	t.Helper()
	samples := [][6]uint64{{}, {^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}}
	for _, rule := range profile.Syscalls {
		for _, arg := range rule.Args {
			for _, v := range []uint64{arg.Value, arg.Value - 1, arg.Value + 1, arg.Value | arg.ValueTwo} {
				var s [6]uint64
				s[arg.Index] = v
				samples = append(samples, s)
			}
		}
	}
	return compareOver(t, samples, a, b)
}

// compareOver runs both programs over every syscall number of every ABI of
// their machine (x86_64, x86, x32; or aarch64, arm) with each argument
// sample and fails at the first differing verdict; it returns how many
// verdicts it compared.
func compareOver(t *testing.T, samples [][6]uint64, a, b *filter.Program) int {
	t.Helper()
	n := 0
	for _, arch := range filter.MachineOf(a.Arches[0]).Arches() {
		audit, bits, _ := filter.AuditArch(arch)
		for _, nr := range syscallNumbersToCompare(arch) {
			for _, args := range samples {
				d := bpf.SeccompData{Nr: nr | bits, Arch: audit, Args: args}
				ra, _, errA := bpf.Run(a.Instructions, d)
				rb, _, errB := bpf.Run(b.Instructions, d)
				if errA != nil || errB != nil || ra != rb {
					t.Fatalf("%s nr %d args %#x: %s vs %s (%v %v)", arch, nr, args, bpf.RetName(ra), bpf.RetName(rb), errA, errB)
				}
				n++
			}
		}
	}
	return n
}

// syscallNumbersToCompare covers every syscall table of the x86 and arm
// families, arm's private calls (0x0f0000 and up), and a few numbers far
// past them.
func syscallNumbersToCompare(arch specs.Arch) []int32 {
	var nrs []int32
	for nr := int32(0); nr < 560; nr++ {
		nrs = append(nrs, nr)
	}
	if arch == specs.ArchARM {
		for nr := int32(0x0f0000); nr < 0x0f0010; nr++ {
			nrs = append(nrs, nr)
		}
	}
	return append(nrs, 1000, 4095, 0x3fffffff)
}

// TestJoinedMatchesJoint: sysgate's per-arch compile joined by its own arch
// dispatch gives the same verdicts as libseccomp's joint program, for
// several arch sets and both layouts.
func TestJoinedMatchesJoint(t *testing.T) {
	rd := profile.RuntimeDefault(spec.CurrentCapabilities())
	profiles := map[string]*specs.LinuxSeccomp{
		"RuntimeDefault": rd,
		"x86_64 only":    parse(t, `{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`),
		"x86_64 and x32": parse(t, `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":5,"architectures":["SCMP_ARCH_X32"],"syscalls":[{"names":["read","write","getppid"],"action":"SCMP_ACT_ALLOW"},{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"},{"index":0,"value":0,"op":"SCMP_CMP_EQ"}]}]}`),
		"x86_64 and x86": parse(t, `{"defaultAction":"SCMP_ACT_KILL_PROCESS","architectures":["SCMP_ARCH_X86"],"syscalls":[{"names":["read","socketcall","_llseek"],"action":"SCMP_ACT_ALLOW"},{"names":["mkdir"],"action":"SCMP_ACT_TRAP"}]}`),
	}
	for name, profile := range profiles {
		for _, opt := range []int{filter.OptimizeLinear, filter.OptimizeBinaryTree} {
			t.Run(fmt.Sprintf("%s/optimize=%d", name, opt), func(t *testing.T) {
				joint, err := filter.Compile(profile, filter.Options{Optimize: opt, Joint: true})
				if err != nil {
					t.Fatal(err)
				}
				joined, err := filter.Compile(profile, filter.Options{Optimize: opt})
				if err != nil {
					t.Fatal(err)
				}
				if joined.StubLength != joint.StubLength || strings.Join(joined.Ignored, ",") != strings.Join(joint.Ignored, ",") {
					t.Errorf("stub %d vs %d, ignored %v vs %v", joined.StubLength, joint.StubLength, joined.Ignored, joint.Ignored)
				}
				assertSameVerdicts(t, profile, joint, joined)
			})
		}
	}
}

// TestActionCacheStaysOn: sysgate's RuntimeDefault filter lets the kernel
// cache every unconditionally allowed syscall, and a filter that reads an
// argument first is reported as caching nothing.
func TestActionCacheStaysOn(t *testing.T) {
	profile := profile.RuntimeDefault(profile.DefaultCapabilities)
	prog, err := filter.Compile(profile, filter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, arch := range []specs.Arch{specs.ArchX86_64, specs.ArchX86} {
		ex, err := filter.Explain(prog, profile, arch, "")
		if err != nil {
			t.Fatal(err)
		}
		cached, allowed, total := 0, 0, 0
		for _, e := range ex {
			total++
			if e.KernelCached {
				cached++
				if e.Action != "SCMP_ACT_ALLOW" {
					t.Errorf("%s %s is cached but its verdict is %s", arch, e.Syscall, e.Action)
				}
			}
			if e.Action == "SCMP_ACT_ALLOW" {
				allowed++
			}
		}
		t.Logf("%s: %d of %d syscalls cached (%d always allowed)", arch, cached, total, allowed)
		if cached != allowed {
			t.Errorf("%s: %d syscalls are always allowed but only %d are cacheable", arch, allowed, cached)
		}
		if arch == specs.ArchX86_64 && cached < 298 {
			t.Errorf("x86_64: %d cacheable syscalls, want at least 298 as measured for Docker's profile", cached)
		}
	}
	// A filter that loads args[0] before anything else defeats the cache.
	argFirst := append([]bpf.Instruction{{Code: 0x20, K: 16}}, prog.Instructions...)
	if bpf.ConstantAllow(argFirst, bpf.AuditArchX86_64, 0) {
		t.Error("a leading argument load must make read uncacheable")
	}
	if !bpf.ConstantAllow(prog.Instructions, bpf.AuditArchX86_64, 0) {
		t.Error("read must be cacheable under RuntimeDefault")
	}
}

// BenchmarkCompileRuntimeDefault compiles containerd's default profile for
// x86_64, x86 and x32, as every container start without a cache would:
// sysgate's per-arch compile and libseccomp's joint export, in both layouts.
func BenchmarkCompileRuntimeDefault(b *testing.B) {
	profile := profile.RuntimeDefault(profile.DefaultCapabilities)
	for _, c := range []struct {
		name string
		opts filter.Options
	}{
		{"per-arch/tree", filter.Options{}},
		{"per-arch/linear", filter.Options{Optimize: filter.OptimizeLinear}},
		{"joint/tree", filter.Options{Joint: true}},
		{"joint/linear", filter.Options{Optimize: filter.OptimizeLinear, Joint: true}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var insns int
			for i := 0; i < b.N; i++ {
				prog, err := filter.Compile(profile, c.opts)
				if err != nil {
					b.Fatal(err)
				}
				insns = len(prog.Instructions)
			}
			b.ReportMetric(float64(insns), "instructions")
		})
	}
}

// A profile shared across a mixed cluster lists other machines'
// architectures beside the x86 family: they are left out, named in
// ForeignArches, and the program is exactly the x86 one.
func TestForeignArchesLeftOut(t *testing.T) {
	x86 := `{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"%s],"syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}`
	plain, err := filter.Compile(parse(t, fmt.Sprintf(x86, "")), filter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mixed, err := filter.Compile(parse(t, fmt.Sprintf(x86, `,"SCMP_ARCH_AARCH64","SCMP_ARCH_ARM","SCMP_ARCH_S390X","SCMP_ARCH_AARCH64"`)), filter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(mixed.Instructions, plain.Instructions) || !slices.Equal(mixed.Arches, plain.Arches) {
		t.Errorf("the mixed profile compiles to another program (%d instructions, arches %v) than its x86 part (%d, %v)", len(mixed.Instructions), mixed.Arches, len(plain.Instructions), plain.Arches)
	}
	if want := []specs.Arch{specs.ArchAARCH64, specs.ArchARM, specs.ArchS390X}; !slices.Equal(mixed.ForeignArches, want) || plain.ForeignArches != nil {
		t.Errorf("ForeignArches %v and %v, want %v and none", mixed.ForeignArches, plain.ForeignArches, want)
	}
}
