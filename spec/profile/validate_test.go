package profile

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/spec/internal/profiletest"
)

// cleanProfile has no findings; each case below breaks one thing.
func cleanProfile() *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read", "write", "exit_group"}, Action: specs.ActAllow},
			{Names: []string{"socket"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: 1, Op: specs.OpEqualTo},
			}},
		},
	}
}

type wantFinding struct {
	severity Severity
	path     string
	message  string // a substring of the message
}

func TestValidateProfile(t *testing.T) {
	tests := []struct {
		name   string
		modify func(p *specs.LinuxSeccomp)
		want   []wantFinding
	}{{
		name:   "clean",
		modify: func(p *specs.LinuxSeccomp) {},
	}, {
		name:   "empty defaultAction",
		modify: func(p *specs.LinuxSeccomp) { p.DefaultAction = "" },
		want:   []wantFinding{{SeverityError, "defaultAction", "missing; set the action for syscalls no rule matches, usually SCMP_ACT_ERRNO (one of SCMP_ACT_ALLOW, "}},
	}, {
		name:   "unknown defaultAction",
		modify: func(p *specs.LinuxSeccomp) { p.DefaultAction = "SCMP_ACT_DENY" },
		want:   []wantFinding{{SeverityError, "defaultAction", `"SCMP_ACT_DENY" is not a seccomp action; use one of SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL,`}},
	}, {
		name:   "unknown rule action",
		modify: func(p *specs.LinuxSeccomp) { p.Syscalls[1].Action = "SCMP_ACT_PERMIT" },
		want:   []wantFinding{{SeverityError, "syscalls[1].action", `"SCMP_ACT_PERMIT" is not a seccomp action; use one of`}},
	}, {
		name:   "empty rule action",
		modify: func(p *specs.LinuxSeccomp) { p.Syscalls[0].Action = "" },
		want:   []wantFinding{{SeverityError, "syscalls[0].action", "missing"}},
	}, {
		name:   "another machine's architecture",
		modify: func(p *specs.LinuxSeccomp) { p.Architectures = append(p.Architectures, specs.ArchAARCH64) },
		want: []wantFinding{{SeverityInfo, "architectures[3]",
			`SCMP_ARCH_AARCH64 is another machine's architecture: an x86 kernel never reports it, so its rules never match here; sysgate leaves it out of the filter`}},
	}, {
		name:   "a big-endian architecture runc cannot load beside x86",
		modify: func(p *specs.LinuxSeccomp) { p.Architectures = append(p.Architectures, specs.ArchS390X) },
		want:   []wantFinding{{SeverityWarning, "architectures[3]", "SCMP_ARCH_S390X is another machine's architecture, and big-endian"}},
	}, {
		name:   "an architecture libseccomp does not know",
		modify: func(p *specs.LinuxSeccomp) { p.Architectures = append(p.Architectures, "SCMP_ARCH_VAX") },
		want: []wantFinding{{SeverityError, "architectures[3]",
			`"SCMP_ARCH_VAX" is not an architecture libseccomp knows; use the SCMP_ARCH_* names (on x86 nodes: SCMP_ARCH_X32, SCMP_ARCH_X86, SCMP_ARCH_X86_64)`}},
	}, {
		name:   "only other machines' architectures",
		modify: func(p *specs.LinuxSeccomp) { p.Architectures = []specs.Arch{specs.ArchAARCH64, specs.ArchARM} },
		want: []wantFinding{
			{SeverityWarning, "architectures", "lists no architecture of an x86 node"},
			{SeverityInfo, "architectures[0]", "SCMP_ARCH_AARCH64 is another machine's architecture"},
			{SeverityInfo, "architectures[1]", "SCMP_ARCH_ARM is another machine's architecture"}},
	}, {
		name:   "unknown operator",
		modify: func(p *specs.LinuxSeccomp) { p.Syscalls[1].Args[0].Op = "SCMP_CMP_EQUAL" },
		want:   []wantFinding{{SeverityError, "syscalls[1].args[0].op", `"SCMP_CMP_EQUAL" is not a comparison operator; use one of SCMP_CMP_EQ,`}},
	}, {
		name:   "empty operator",
		modify: func(p *specs.LinuxSeccomp) { p.Syscalls[1].Args[0].Op = "" },
		want:   []wantFinding{{SeverityError, "syscalls[1].args[0].op", "missing"}},
	}, {
		name: "unknown flag",
		modify: func(p *specs.LinuxSeccomp) {
			p.Flags = []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, "SECCOMP_FILTER_FLAG_NEW_LISTENER"}
		},
		want: []wantFinding{{SeverityError, "flags[1]", `"SECCOMP_FILTER_FLAG_NEW_LISTENER" is not a flag sysgate can set; use one of`}},
	}, {
		name:   "argument index 6",
		modify: func(p *specs.LinuxSeccomp) { p.Syscalls[1].Args[0].Index = 6 },
		want:   []wantFinding{{SeverityError, "syscalls[1].args[0].index", "6 is not an argument index: syscalls have arguments 0 to 5"}},
	}, {
		name: "seven comparisons on arguments 0 to 5",
		modify: func(p *specs.LinuxSeccomp) {
			for i := range 7 {
				p.Syscalls[1].Args = append(p.Syscalls[1].Args, specs.LinuxSeccompArg{Index: uint(i % 6), Value: 2, Op: specs.OpNotEqual})
			}
		},
	}, {
		name: "errnoRet on SCMP_ACT_ALLOW",
		modify: func(p *specs.LinuxSeccomp) {
			p.Syscalls[0].ErrnoRet = profiletest.UintPtr(1)
		},
		want: []wantFinding{{SeverityError, "syscalls[0].errnoRet", "set with action SCMP_ACT_ALLOW, which returns no errno"}},
	}, {
		name: "errnoRet on SCMP_ACT_TRACE and SCMP_ACT_ERRNO",
		modify: func(p *specs.LinuxSeccomp) {
			p.Syscalls = append(p.Syscalls,
				specs.LinuxSyscall{Names: []string{"ptrace"}, Action: specs.ActTrace, ErrnoRet: profiletest.UintPtr(7)},
				specs.LinuxSyscall{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: profiletest.UintPtr(38)})
		},
	}, {
		name: "defaultErrnoRet with SCMP_ACT_KILL_PROCESS",
		modify: func(p *specs.LinuxSeccomp) {
			p.DefaultAction = specs.ActKillProcess
			p.DefaultErrnoRet = profiletest.UintPtr(1)
		},
		want: []wantFinding{{SeverityError, "defaultErrnoRet", "set with defaultAction SCMP_ACT_KILL_PROCESS, which returns no errno"}},
	}, {
		name:   "errnoRet 4096",
		modify: func(p *specs.LinuxSeccomp) { p.Syscalls = append(p.Syscalls, errnoRule("mkdir", 4096)) },
		want:   []wantFinding{{SeverityError, "syscalls[2].errnoRet", "4096 is larger than the largest errno (4095)"}},
	}, {
		name:   "errnoRet 4095",
		modify: func(p *specs.LinuxSeccomp) { p.Syscalls = append(p.Syscalls, errnoRule("mkdir", 4095)) },
	}, {
		name:   "defaultErrnoRet 65536",
		modify: func(p *specs.LinuxSeccomp) { p.DefaultErrnoRet = profiletest.UintPtr(65536) },
		want:   []wantFinding{{SeverityError, "defaultErrnoRet", "65536 is larger than the largest errno (4095)"}},
	}, {
		name:   "listenerMetadata without listenerPath",
		modify: func(p *specs.LinuxSeccomp) { p.ListenerMetadata = "pod=a" },
		want:   []wantFinding{{SeverityError, "listenerMetadata", "set without listenerPath"}},
	}, {
		name: "SCMP_ACT_NOTIFY as defaultAction",
		modify: func(p *specs.LinuxSeccomp) {
			p.DefaultAction = specs.ActNotify
			p.ListenerPath = "/run/agent.sock"
		},
		want: []wantFinding{{SeverityError, "defaultAction", "SCMP_ACT_NOTIFY cannot be used as default action"}},
	}, {
		name:   "SCMP_ACT_NOTIFY without listenerPath",
		modify: func(p *specs.LinuxSeccomp) { p.Syscalls = append(p.Syscalls, notifyRule("mount")) },
		want:   []wantFinding{{SeverityError, "syscalls[2].action", "SCMP_ACT_NOTIFY needs a listener: set listenerPath"}},
	}, {
		name: "SCMP_ACT_NOTIFY with listenerPath",
		modify: func(p *specs.LinuxSeccomp) {
			p.ListenerPath = "/run/agent.sock"
			p.ListenerMetadata = "pod=a"
			p.Syscalls = append(p.Syscalls, notifyRule("mount"))
		},
	}, {
		name: "SCMP_ACT_NOTIFY on write",
		modify: func(p *specs.LinuxSeccomp) {
			p.ListenerPath = "/run/agent.sock"
			p.Syscalls[0].Names = []string{"read", "exit_group"}
			p.Syscalls = append(p.Syscalls, notifyRule("mount", "write"))
		},
		want: []wantFinding{{SeverityError, "syscalls[2].names[1]", "SCMP_ACT_NOTIFY cannot be used for the write syscall"}},
	}, {
		name:   "rule without names",
		modify: func(p *specs.LinuxSeccomp) { p.Syscalls[1].Names = []string{} },
		want:   []wantFinding{{SeverityError, "syscalls[1].names", "no syscall names; name the syscalls this rule applies to, or remove the rule"}},
	}, {
		name:   "rule with nil names",
		modify: func(p *specs.LinuxSeccomp) { p.Syscalls[1].Names = nil },
		want:   []wantFinding{{SeverityError, "syscalls[1].names", "no syscall names"}},
	}, {
		name:   "empty syscall name",
		modify: func(p *specs.LinuxSeccomp) { p.Syscalls[0].Names[1] = "" },
		want:   []wantFinding{{SeverityError, "syscalls[0].names[1]", "empty syscall name; remove it"}},
	}, {
		name:   "valueTwo with SCMP_CMP_EQ",
		modify: func(p *specs.LinuxSeccomp) { p.Syscalls[1].Args[0].ValueTwo = 3 },
		want:   []wantFinding{{SeverityWarning, "syscalls[1].args[0].valueTwo", "only SCMP_CMP_MASKED_EQ reads valueTwo, so it is ignored with SCMP_CMP_EQ"}},
	}, {
		name: "valueTwo with SCMP_CMP_MASKED_EQ",
		modify: func(p *specs.LinuxSeccomp) {
			p.Syscalls[1].Args[0] = specs.LinuxSeccompArg{Index: 0, Value: 0xff, ValueTwo: 1, Op: specs.OpMaskedEqual}
		},
	}, {
		name: "4097 rules",
		modify: func(p *specs.LinuxSeccomp) {
			for len(p.Syscalls) <= maxRules {
				p.Syscalls = append(p.Syscalls, specs.LinuxSyscall{Names: []string{"read"}, Action: specs.ActAllow})
			}
		},
		want: []wantFinding{{SeverityError, "syscalls", "4097 rules, more than 4096"}},
	}, {
		name:   "4096 rules",
		modify: func(p *specs.LinuxSeccomp) { p.Syscalls = slices.Repeat(p.Syscalls[:1], maxRules) },
	}, {
		name:   "a name no kernel has: likely a typo",
		modify: func(p *specs.LinuxSeccomp) { p.Syscalls[0].Names = append(p.Syscalls[0].Names, "lismount") },
		want: []wantFinding{{SeverityWarning, "syscalls[0].names[3]",
			`"lismount" is not a syscall of any ABI in sysgate's table (Linux 7.3) nor of any architecture libseccomp`}},
	}, {
		name: "a name newer than libseccomp is filtered by number, and said so",
		modify: func(p *specs.LinuxSeccomp) {
			p.Syscalls = append(p.Syscalls, errnoRule("listmount", 13), errnoRule("listmount", 13))
		},
		want: []wantFinding{{SeverityInfo, "syscalls[2].names[0]",
			`, which sysgate links: sysgate filters it by its number in Linux 7.3's syscall table (x86_64 458, x86 458, x32 458|0x40000000)`}},
	}, {
		name:   "a name only x32 lacks in libseccomp is filtered by number there",
		modify: func(p *specs.LinuxSeccomp) { p.Syscalls[0].Names = append(p.Syscalls[0].Names, "map_shadow_stack") },
		want:   []wantFinding{{SeverityInfo, "syscalls[0].names[3]", `filters it by its number in Linux 7.3's syscall table (x32 453|0x40000000)`}},
	}, {
		name:   "a syscall of other architectures only",
		modify: func(p *specs.LinuxSeccomp) { p.Syscalls[0].Names = append(p.Syscalls[0].Names, "arm_fadvise64_64") },
		want: []wantFinding{{SeverityInfo, "syscalls[0].names[3]",
			`"arm_fadvise64_64" is a syscall of other architectures only, not of x86_64, x86, x32: the rule does nothing here`}},
	}, {
		// containerd's profile lists them; i386 reaches them through
		// socketcall, which libseccomp filters.
		name:   "recv and send are real on x86",
		modify: func(p *specs.LinuxSeccomp) { p.Syscalls[0].Names = append(p.Syscalls[0].Names, "recv", "send") },
	}, {
		name: "x86-only and x32-only syscalls are known",
		modify: func(p *specs.LinuxSeccomp) {
			p.Syscalls[0].Names = append(p.Syscalls[0].Names, "chown32", "socketcall")
		},
	}, {
		name: "rule with the default action",
		modify: func(p *specs.LinuxSeccomp) {
			p.Syscalls = append(p.Syscalls, specs.LinuxSyscall{Names: []string{"mount"}, Action: specs.ActErrno})
		},
		want: []wantFinding{{SeverityWarning, "syscalls[2].action", "SCMP_ACT_ERRNO (errno 1) is also the default action, so the rule has no effect"}},
	}, {
		name: "rule with the default action and the same errno spelled out",
		modify: func(p *specs.LinuxSeccomp) {
			p.DefaultErrnoRet = profiletest.UintPtr(1)
			p.Syscalls = append(p.Syscalls, errnoRule("mount", 1))
		},
		want: []wantFinding{{SeverityWarning, "syscalls[2].action", "has no effect"}},
	}, {
		name:   "rule with the default action but another errno",
		modify: func(p *specs.LinuxSeccomp) { p.Syscalls = append(p.Syscalls, errnoRule("mount", 38)) },
	}, {
		name: "SCMP_ACT_KILL is SCMP_ACT_KILL_THREAD",
		modify: func(p *specs.LinuxSeccomp) {
			p.DefaultAction = specs.ActKillThread
			p.Syscalls = append(p.Syscalls, specs.LinuxSyscall{Names: []string{"mount"}, Action: specs.ActKill})
		},
		want: []wantFinding{{SeverityWarning, "syscalls[2].action", "SCMP_ACT_KILL_THREAD is also the default action"}},
	}, {
		name: "SCMP_ACT_ALLOW default",
		modify: func(p *specs.LinuxSeccomp) {
			p.DefaultAction = specs.ActAllow
			p.Syscalls = []specs.LinuxSyscall{errnoRule("mount", 1)}
		},
		want: []wantFinding{{SeverityWarning, "defaultAction", "SCMP_ACT_ALLOW makes the profile a denylist: syscalls added to new kernels are allowed"}},
	}, {
		name: "SCMP_ACT_LOG default",
		modify: func(p *specs.LinuxSeccomp) {
			p.DefaultAction = specs.ActLog
			p.Syscalls = []specs.LinuxSyscall{errnoRule("mount", 1)}
		},
		want: []wantFinding{{SeverityWarning, "defaultAction", "SCMP_ACT_LOG makes the profile a denylist"}},
	}, {
		name:   "x86_64 alone",
		modify: func(p *specs.LinuxSeccomp) { p.Architectures = []specs.Arch{specs.ArchX86_64} },
		want: []wantFinding{{SeverityWarning, "architectures",
			"SCMP_ARCH_X86_64 is listed without SCMP_ARCH_X86 or SCMP_ARCH_X32: processes that use those entry points are killed; list them to give them the same rules"}},
	}, {
		name:   "x86_64 without x32",
		modify: func(p *specs.LinuxSeccomp) { p.Architectures = []specs.Arch{specs.ArchX86_64, specs.ArchX86} },
		want:   []wantFinding{{SeverityWarning, "architectures", "SCMP_ARCH_X86_64 is listed without SCMP_ARCH_X32: "}},
	}, {
		name:   "no architectures",
		modify: func(p *specs.LinuxSeccomp) { p.Architectures = nil },
		want:   []wantFinding{{SeverityWarning, "architectures", "none listed, so the filter covers only the native x86_64 ABI"}},
	}, {
		name:   "architecture listed twice",
		modify: func(p *specs.LinuxSeccomp) { p.Architectures = append(p.Architectures, specs.ArchX86) },
		want:   []wantFinding{{SeverityWarning, "architectures[3]", "SCMP_ARCH_X86 is listed twice"}},
	}, {
		name: "two actions for one syscall",
		modify: func(p *specs.LinuxSeccomp) {
			p.Syscalls = append(p.Syscalls, specs.LinuxSyscall{Names: []string{"mount", "socket"}, Action: specs.ActKillProcess})
		},
		want: []wantFinding{{SeverityError, "syscalls[2].names[1]",
			`"socket" has action SCMP_ACT_KILL_PROCESS here but SCMP_ACT_ALLOW in syscalls[1], and a call can match both rules' argument conditions`}},
	}, {
		name: "two errnos for one syscall",
		modify: func(p *specs.LinuxSeccomp) {
			p.Syscalls = append(p.Syscalls, errnoRule("mount", 38), errnoRule("mount", 13))
		},
		want: []wantFinding{{SeverityWarning, "syscalls[3].names[0]", `"mount" already has action SCMP_ACT_ERRNO (errno 38) from syscalls[2]; the first rule wins`}},
	}, {
		name: "two actions for one syscall with argument conditions",
		modify: func(p *specs.LinuxSeccomp) {
			p.Syscalls = append(p.Syscalls, specs.LinuxSyscall{Names: []string{"mount"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 2, Op: specs.OpEqualTo}}},
				specs.LinuxSyscall{Names: []string{"mount"}, Action: specs.ActKillProcess})
		},
		want: []wantFinding{{SeverityError, "syscalls[3].names[0]", `"mount" has action SCMP_ACT_KILL_PROCESS here but SCMP_ACT_ALLOW in syscalls[2], and a call can match both rules' argument conditions`}},
	}, {
		name: "exclusive conditions may carry different actions (podman's socket rules)",
		modify: func(p *specs.LinuxSeccomp) {
			p.Syscalls = append(p.Syscalls,
				specs.LinuxSyscall{Names: []string{"setsockopt"}, Action: specs.ActErrno, ErrnoRet: profiletest.UintPtr(22), Args: []specs.LinuxSeccompArg{{Index: 0, Value: 16, Op: specs.OpEqualTo}, {Index: 2, Value: 9, Op: specs.OpEqualTo}}},
				specs.LinuxSyscall{Names: []string{"setsockopt"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 2, Value: 9, Op: specs.OpNotEqual}}})
		},
	}, {
		name: "overlapping conditions may not",
		modify: func(p *specs.LinuxSeccomp) {
			p.Syscalls = append(p.Syscalls,
				specs.LinuxSyscall{Names: []string{"setsockopt"}, Action: specs.ActErrno, ErrnoRet: profiletest.UintPtr(22), Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0, Op: specs.OpEqualTo}}},
				specs.LinuxSyscall{Names: []string{"setsockopt"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 7, Op: specs.OpNotEqual}}})
		},
		want: []wantFinding{{SeverityError, "syscalls[3].names[0]", `"setsockopt" has action SCMP_ACT_ALLOW here but SCMP_ACT_ERRNO (errno 22) in syscalls[2], and a call can match both rules' argument conditions`}},
	}, {
		name: "one action for one syscall in several rules",
		modify: func(p *specs.LinuxSeccomp) {
			p.Syscalls = append(p.Syscalls,
				specs.LinuxSyscall{Names: []string{"socket"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 2, Op: specs.OpEqualTo}}},
				specs.LinuxSyscall{Names: []string{"ptrace"}, Action: specs.ActKill},
				specs.LinuxSyscall{Names: []string{"ptrace"}, Action: specs.ActKillThread})
		},
	}, {
		name: "a rule with the default action does not conflict",
		modify: func(p *specs.LinuxSeccomp) {
			p.Syscalls = append(p.Syscalls, specs.LinuxSyscall{Names: []string{"socket"}, Action: specs.ActErrno})
		},
		want: []wantFinding{{SeverityWarning, "syscalls[2].action", "has no effect"}},
	}, {
		name:   "syscall listed twice in a rule",
		modify: func(p *specs.LinuxSeccomp) { p.Syscalls[0].Names = append(p.Syscalls[0].Names, "read") },
		want:   []wantFinding{{SeverityWarning, "syscalls[0].names[3]", `"read" is listed twice in this rule; remove one`}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := cleanProfile()
			tt.modify(p)
			got := Validate(p)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d findings, want %d:\n%s", len(got), len(tt.want), findingsText(got))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Severity != w.severity || g.Path != w.path || !strings.Contains(g.Message, w.message) {
					t.Errorf("finding %d:\n got %s\nwant %s: %s: …%s…", i, g, w.severity, w.path, w.message)
				}
			}
		})
	}
}

func errnoRule(name string, errno uint) specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: []string{name}, Action: specs.ActErrno, ErrnoRet: &errno}
}

func notifyRule(names ...string) specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: names, Action: specs.ActNotify}
}

func findingsText(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\t%s\n", f)
	}
	return b.String()
}

// A syscall the running kernel lacks: what a call returns here. fchroot
// (Linux 7.x) is the newest in the table; the kernel that runs the test
// decides which note is right, and the filter's own probe agrees with it.
func TestValidateKernelLacks(t *testing.T) {
	p := cleanProfile()
	p.Syscalls = append(p.Syscalls, errnoRule("fchroot", 13))
	var notes []string
	for _, f := range Validate(p) {
		if f.Severity != SeverityInfo || f.Path != "syscalls[2].names[0]" {
			t.Errorf("unexpected finding %s", f)
		}
		notes = append(notes, f.Message)
	}
	want := 1
	if filter.KernelLacks("fchroot") {
		want = 2
	}
	if len(notes) != want || !strings.Contains(notes[0], "filters it by its number") ||
		(want == 2 && !strings.Contains(notes[1], "this kernel ("+filter.KernelRelease()+`) does not have "fchroot": sysgate's filter answers ENOSYS to it here`)) {
		t.Errorf("kernel %s (lacks fchroot: %v): notes %q", filter.KernelRelease(), want == 2, notes)
	}
}

func TestValidateProfileNil(t *testing.T) {
	got := Validate(nil)
	if len(got) != 1 || got[0].Severity != SeverityError {
		t.Fatalf("got %v, want one error", got)
	}
}

func TestValidateProfileOrder(t *testing.T) {
	p := cleanProfile()
	p.DefaultAction = specs.ActLog // warning at defaultAction
	for range 11 {
		p.Syscalls = append(p.Syscalls, specs.LinuxSyscall{Names: []string{"read", "nosuchcall"}, Action: specs.ActAllow})
	}
	p.Syscalls[10].Action = "bogus" // error at syscalls[10].action
	p.Syscalls[2].Args = []specs.LinuxSeccompArg{{Index: 9, Op: specs.OpEqualTo}}
	p.Architectures = []specs.Arch{specs.ArchX86_64, "SCMP_ARCH_PDP11"}
	got := Validate(p)
	var paths []string
	for _, f := range got {
		paths = append(paths, f.Severity.String()+" "+f.Path)
	}
	want := []string{
		"error architectures[1]",
		"error syscalls[2].args[0].index",
		"error syscalls[10].action",
		"warning architectures",
		"warning defaultAction",
	}
	for i := 2; i <= 12; i++ {
		want = append(want, fmt.Sprintf("warning syscalls[%d].names[1]", i))
	}
	if !slices.Equal(paths, want) {
		t.Errorf("order:\n got %q\nwant %q", paths, want)
	}
}

func TestSeverityString(t *testing.T) {
	for s, want := range map[Severity]string{SeverityError: "error", SeverityWarning: "warning", SeverityInfo: "info", 7: "Severity(7)"} {
		if got := s.String(); got != want {
			t.Errorf("%d: got %q, want %q", int(s), got, want)
		}
	}
	f := Finding{Severity: SeverityWarning, Path: "flags[0]", Message: "m"}
	if got := f.String(); got != "warning: flags[0]: m" {
		t.Errorf("Finding.String() = %q", got)
	}
}

func TestComparePaths(t *testing.T) {
	ordered := []string{"", "architectures", "architectures[2]", "architectures[10]", "defaultAction",
		"syscalls", "syscalls[1].action", "syscalls[1].names[9]", "syscalls[1].names[10]", "syscalls[02]", "syscalls[3]"}
	for i := range ordered {
		for j := range ordered {
			got := comparePaths(ordered[i], ordered[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got != want {
				t.Errorf("comparePaths(%q, %q) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}
