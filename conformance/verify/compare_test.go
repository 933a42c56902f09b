package verify

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/bpf"
)

func TestStackedFollowsKernelPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name string
		rets []uint32 // newest first
		want uint32
	}{
		{"no filter allows", nil, bpf.RetAllow},
		{"one filter", []uint32{bpf.RetErrno | 1}, bpf.RetErrno | 1},
		{"kill process beats everything", []uint32{bpf.RetAllow, bpf.RetKillProcess, bpf.RetErrno | 1}, bpf.RetKillProcess},
		{"kill thread beats trap", []uint32{bpf.RetTrap, bpf.RetKillThread}, bpf.RetKillThread},
		{"errno beats log", []uint32{bpf.RetLog, bpf.RetErrno | 38}, bpf.RetErrno | 38},
		{"equal actions: the newest filter's data", []uint32{bpf.RetErrno | 1, bpf.RetErrno | 38}, bpf.RetErrno | 1},
		{"trace beats log beats allow", []uint32{bpf.RetAllow, bpf.RetLog, bpf.RetTrace | 7}, bpf.RetTrace | 7},
		{"notify beats trace", []uint32{bpf.RetTrace, bpf.RetUserNotif}, bpf.RetUserNotif},
	} {
		if got := stacked(tc.rets); got != tc.want {
			t.Errorf("%s: stacked(%#x) = %#x, want %#x", tc.name, tc.rets, got, tc.want)
		}
	}
}

func TestMeaning(t *testing.T) {
	for _, tc := range []struct {
		a, b  uint32
		equal bool
	}{
		{bpf.RetAllow, bpf.RetAllow | 5, true},
		{bpf.RetLog | 1, bpf.RetLog, true},
		{bpf.RetKillProcess | 3, bpf.RetKillProcess, true},
		{bpf.RetErrno | 1, bpf.RetErrno | 38, false},
		{bpf.RetErrno | 5000, bpf.RetErrno | maxErrno, true},
		{bpf.RetTrap | 1, bpf.RetTrap | 2, false},
		{bpf.RetTrace | 1, bpf.RetTrace | 2, false},
		{0x00010000, bpf.RetKillProcess, true}, // an unknown action kills the process
		{bpf.RetKillThread, bpf.RetKillProcess, false},
	} {
		if got := meaning(tc.a) == meaning(tc.b); got != tc.equal {
			t.Errorf("meaning(%#x) == meaning(%#x) is %v, want %v", tc.a, tc.b, got, tc.equal)
		}
	}
}

// profiles used by the comparisons: a base that allows most things, the
// same with mkdir denied, and one whose verdict depends on an argument.
func testProfile(denied ...string) *specs.LinuxSeccomp {
	var allowed []string
	for _, name := range []string{"read", "write", "openat", "close", "mkdir", "mkdirat", "exit_group", "getpid"} {
		if !slices.Contains(denied, name) {
			allowed = append(allowed, name)
		}
	}
	p := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Syscalls: []specs.LinuxSyscall{
			{Names: allowed, Action: specs.ActAllow},
			{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 8, Op: specs.OpEqualTo}}},
		},
	}
	if len(denied) > 0 {
		p.Syscalls = append(p.Syscalls, specs.LinuxSyscall{Names: denied, Action: specs.ActErrno})
		errno := uint(13)
		p.Syscalls[len(p.Syscalls)-1].ErrnoRet = &errno
	}
	return p
}

func compile(t *testing.T, p *specs.LinuxSeccomp, opts filter.Options) *filter.Program {
	t.Helper()
	prog, err := filter.Compile(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

func TestCompare(t *testing.T) {
	base := testProfile()
	decided := compile(t, base, filter.Options{})
	// The same profile in libseccomp's other layouts: different bytes,
	// the same meaning.
	linear := compile(t, base, filter.Options{Optimize: filter.OptimizeLinear, Joint: true})
	noMkdir := compile(t, testProfile("mkdir", "mkdirat"), filter.Options{})
	withPersonality := testProfile()
	withPersonality.Syscalls[1].Args = nil
	anyPersonality := compile(t, withPersonality, filter.Options{})
	stubless := decided.Instructions[decided.StubLength:]
	expected := []Expected{{"sysgate's program", decided.Instructions}, {"without the stub", stubless}}

	for _, tc := range []struct {
		name      string
		installed [][]bpf.Instruction
		expected  []Expected
		equal     bool
		matched   string
		findings  []string // substrings, in order
		diffs     []string // Difference strings that must appear
	}{
		{name: "the decided program itself", installed: [][]bpf.Instruction{decided.Instructions}, expected: expected, equal: true, matched: "sysgate's program"},
		{name: "another layout of the same profile", installed: [][]bpf.Instruction{linear.Instructions}, expected: expected[:1], equal: true, matched: "sysgate's program"},
		{name: "the profile without sysgate's stub, as crun compiles it", installed: [][]bpf.Instruction{stubless}, expected: expected, equal: true, matched: "without the stub"},
		{name: "without the stub where only the stub is allowed", installed: [][]bpf.Instruction{stubless}, expected: expected[:1],
			findings: []string{"another source"}, diffs: []string{"x86_64 259..1025: installed SCMP_ACT_ERRNO(1), decided SCMP_ACT_ERRNO(38)"}},
		{name: "another profile", installed: [][]bpf.Instruction{noMkdir.Instructions}, expected: expected,
			findings: []string{"another source"}, diffs: []string{"x86_64 mkdir (83): installed SCMP_ACT_ERRNO(13), decided SCMP_ACT_ALLOW", "x86 mkdir (39)", "x32 mkdirat (258)"}},
		{name: "an argument the decided profile checks", installed: [][]bpf.Instruction{anyPersonality.Instructions}, expected: expected,
			findings: []string{"another source"}, diffs: []string{"x86_64 personality (135) args [0x0,", "installed SCMP_ACT_ALLOW, decided SCMP_ACT_ERRNO(1)"}},
		{name: "a filter stacked on top", installed: [][]bpf.Instruction{noMkdir.Instructions, decided.Instructions}, expected: expected,
			matched: "sysgate's program", findings: []string{"filter 1 of 2 was stacked on top"}, diffs: []string{"x86_64 mkdir (83): installed SCMP_ACT_ERRNO(13)"}},
		{name: "a harmless filter stacked on top", installed: [][]bpf.Instruction{allowAll, decided.Instructions}, expected: expected,
			matched: "sysgate's program", findings: []string{"filter 1 of 2 was stacked", "not sysgate's"}},
		{name: "an inherited filter below", installed: [][]bpf.Instruction{decided.Instructions, noMkdir.Instructions}, expected: expected,
			matched: "sysgate's program", findings: []string{"filter 2 of 2 is older than the decided one"}, diffs: []string{"x86_64 mkdir (83)"}},
		{name: "missing", installed: nil, expected: expected,
			findings: []string{"no filter installed"}, diffs: []string{"installed SCMP_ACT_ALLOW, decided SCMP_ACT_ERRNO(1)"}},
		{name: "unconfined as decided", installed: nil, expected: []Expected{{"unconfined", nil}}, equal: true, matched: "unconfined"},
		{name: "a filter where unconfined was decided", installed: [][]bpf.Instruction{noMkdir.Instructions}, expected: []Expected{{"unconfined", nil}},
			matched: "unconfined", findings: []string{"1 filter(s) installed where sysgate decided unconfined"}, diffs: []string{"installed SCMP_ACT_ERRNO(13), decided SCMP_ACT_ALLOW"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Compare(tc.installed, tc.expected, base)
			if err != nil {
				t.Fatal(err)
			}
			if c.Equal != tc.equal || c.Matched != tc.matched {
				t.Errorf("equal %v matched %q, want %v %q\n%s", c.Equal, c.Matched, tc.equal, tc.matched, dump(c))
			}
			if tc.equal && (len(c.Differences) > 0 || len(c.Findings) > 0) {
				t.Errorf("equal, yet:\n%s", dump(c))
			}
			text := dump(c)
			for _, want := range append(tc.findings, tc.diffs...) {
				if !strings.Contains(text, want) {
					t.Errorf("missing %q in:\n%s", want, text)
				}
			}
		})
	}
}

func dump(c Comparison) string {
	var b strings.Builder
	for _, f := range c.Findings {
		b.WriteString(f + "\n")
	}
	for _, d := range c.Differences {
		b.WriteString(d.String() + "\n")
	}
	return b.String()
}

func TestCompareFailsClosed(t *testing.T) {
	decided := compile(t, testProfile(), filter.Options{})
	readsIP := []bpf.Instruction{bpf.LoadAbsolute(bpf.OffsetInstructionPointer), bpf.Return(bpf.RetAllow)}
	bad := []bpf.Instruction{bpf.LoadAbsolute(200), bpf.Return(bpf.RetAllow)}
	for name, installed := range map[string][][]bpf.Instruction{
		"instruction pointer": {readsIP},
		"invalid program":     {bad},
	} {
		c, err := Compare(installed, []Expected{{"decided", decided.Instructions}}, testProfile())
		if err == nil || c.Equal {
			t.Errorf("%s: Compare = %+v, %v; want an error, never equal", name, c, err)
		}
	}
	if _, err := Compare(nil, nil, nil); err == nil {
		t.Error("Compare with nothing decided did not fail")
	}
}

func TestProgramConstants(t *testing.T) {
	// args[0] is compared with 7 (masked with 0xff first) and, through a
	// jump that also comes from the nr dispatch, nothing else: the
	// comparison of A with 200 at 6 sees nr on one way in and args[0] on
	// the other, so it is no argument's.
	prog := []bpf.Instruction{
		bpf.LoadAbsolute(bpf.OffsetNr),                     // 0
		{Code: bpf.OpJumpEqual, Jt: 0, Jf: 4, K: 1},        // 1 -> 2 or 6
		bpf.LoadAbsolute(bpf.OffsetArgs),                   // 2
		{Code: opAndK, K: 0xff},                            // 3
		{Code: bpf.OpJumpEqual, Jt: 0, Jf: 1, K: 7},        // 4 -> 5 or 6
		bpf.Return(bpf.RetAllow),                           // 5
		{Code: bpf.OpJumpGreater, Jt: 0, Jf: 1, K: 200},    // 6
		bpf.Return(bpf.RetErrno | 1),                       // 7
		bpf.LoadAbsolute(bpf.OffsetArgs + 8 + 4),           // 8: args[1], high word
		{Code: bpf.OpJumpSet, Jt: 0, Jf: 1, K: 0x80000000}, // 9
		bpf.Return(bpf.RetKillProcess),                     // 10
		bpf.Return(bpf.RetAllow),                           // 11
	}
	got := programConstants(prog)
	want := []argConstant{{index: 0, k: 7}, {index: 1, high: true, k: 0x80000000}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("programConstants = %+v, want %+v", got, want)
	}
}

func TestGroupDifferences(t *testing.T) {
	args := [6]uint64{1}
	diffs := []Difference{
		{ABI: specs.ArchX86, From: 0, To: 16, Installed: "KILL", Decided: "ALLOW"},
		{ABI: specs.ArchX86, From: 17, To: 17, Syscall: "ftime", Installed: "KILL", Decided: "ERRNO"},
		{ABI: specs.ArchX86, From: 19, To: 20, Installed: "KILL", Decided: "ALLOW"},
		{ABI: specs.ArchX86_64, From: 83, To: 83, Syscall: "mkdir", Installed: "ERRNO", Decided: "ALLOW"},
		{ABI: specs.ArchX86_64, From: 135, To: 135, Syscall: "personality", Args: &args, Installed: "ERRNO", Decided: "ALLOW"},
	}
	groups, perArgs := GroupDifferences(diffs)
	want := []DifferenceGroup{
		{ABI: "x86", Installed: "KILL", Decided: "ALLOW", Where: []string{"0..16", "19..20"}, Count: 19},
		{ABI: "x86", Installed: "KILL", Decided: "ERRNO", Where: []string{"ftime (17)"}, Count: 1},
		{ABI: "x86_64", Installed: "ERRNO", Decided: "ALLOW", Where: []string{"mkdir (83)"}, Count: 1},
	}
	if fmt.Sprint(groups) != fmt.Sprint(want) || len(perArgs) != 1 || perArgs[0].Syscall != "personality" {
		t.Errorf("GroupDifferences = %+v, %+v", groups, perArgs)
	}
}
