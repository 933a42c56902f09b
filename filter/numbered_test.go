package filter_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/bpf"
	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/profile"
)

var x86Family = []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}

var scmpArch = map[specs.Arch]libseccomp.ScmpArch{
	specs.ArchX86_64: libseccomp.ArchAMD64, specs.ArchX86: libseccomp.ArchX86, specs.ArchX32: libseccomp.ArchX32,
}

// sameInLibseccomp lists the profile's names that libseccomp numbers
// exactly as sysgate's table does on every x86 ABI (or lacks where the
// table lacks them): forcing those through the rules by number must not
// change a verdict. i386's socketcall/ipc names are left out: libseccomp
// turns them into rules for the multiplexer as well.
func sameInLibseccomp(p *specs.LinuxSeccomp) []string {
	var out []string
	for _, rule := range p.Syscalls {
	name:
		for _, name := range rule.Names {
			if slices.Contains(out, name) {
				continue
			}
			for _, arch := range x86Family {
				mine, inTable := filter.SyscallNumber(name, arch)
				sc, err := libseccomp.GetSyscallFromNameByArch(name, scmpArch[arch])
				theirs := int32(sc)
				same := (inTable && err == nil && theirs == mine) || (!inTable && (err != nil || theirs < -1000))
				if !same {
					continue name
				}
			}
			if filter.IsKnownSyscall(name) {
				out = append(out, name)
			}
		}
	}
	return out
}

// argBoundaries samples arguments around every value a condition draws:
// each side of the value in both 32-bit halves, the value's masked form and
// bits outside the mask, at the condition's index.
func argBoundaries(p *specs.LinuxSeccomp) [][6]uint64 {
	samples := [][6]uint64{{}, {^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}}
	add := func(s [6]uint64) {
		if !slices.Contains(samples, s) {
			samples = append(samples, s)
		}
	}
	for _, rule := range p.Syscalls {
		for _, arg := range rule.Args {
			v, m := arg.Value, arg.ValueTwo
			for _, x := range []uint64{v, v - 1, v + 1, v + 1<<32, v - 1<<32, v ^ 1<<32, uint64(uint32(v)), v | 0xffffffff00000000,
				m, m & v, m&v | ^v, m | v, ^v, 0, ^uint64(0)} {
				var s [6]uint64
				s[arg.Index] = x
				add(s)
			}
		}
		// Two conditions of a rule true at once, for the ANDed rules.
		if len(rule.Args) > 1 {
			var s [6]uint64
			for _, arg := range rule.Args {
				if arg.Op == specs.OpMaskedEqual {
					s[arg.Index] = arg.ValueTwo & arg.Value
				} else {
					s[arg.Index] = arg.Value
				}
			}
			add(s)
		}
	}
	return samples
}

// assertSameVerdictsArgs is assertSameVerdicts with argBoundaries.
func assertSameVerdictsArgs(t *testing.T, p *specs.LinuxSeccomp, a, b *filter.Program) int {
	t.Helper()
	return compareOver(t, argBoundaries(p), a, b)
}

// TestNumberedMatchesLibseccomp: the rules sysgate writes by number mean
// what libseccomp makes of the same rules. Names libseccomp does know are
// forced through the rules by number and the verdicts held against
// libseccomp's program, for every syscall number of every x86 ABI and
// arguments around every boundary: each operator on 64-bit values (x86_64)
// and their low halves (x86, x32, which libseccomp compares on 32 bits),
// masked values with bits outside the mask, ANDed and ORed conditions, an
// unconditional rule with conditional ones, both layouts, and programs long
// enough that every jump needs its long form.
func TestNumberedMatchesLibseccomp(t *testing.T) {
	all := `"architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"]`
	cond := func(op string, index int, value, valueTwo uint64) string {
		return fmt.Sprintf(`{"index":%d,"value":%d,"valueTwo":%d,"op":"%s"}`, index, value, valueTwo, op)
	}
	var ops []string
	for i, op := range []string{"SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_GT", "SCMP_CMP_GE", "SCMP_CMP_LT", "SCMP_CMP_LE"} {
		ops = append(ops, fmt.Sprintf(`{"names":["%s"],"action":"SCMP_ACT_ERRNO","errnoRet":%d,"args":[%s]}`,
			[]string{"getppid", "getpid", "umask", "dup", "close", "getuid"}[i], 10+i, cond(op, i, 0x100000005, 0)))
	}
	// Every x86_64 syscall below 64 with two conditions: the rules by
	// number alone run to over two thousand instructions.
	var many []string
	for nr := int32(0); nr < 64; nr++ {
		if name, ok := filter.SyscallName(nr, specs.ArchX86_64); ok && name != "exit_group" {
			many = append(many, `"`+name+`"`)
		}
	}
	profiles := map[string]string{
		"each operator": `{"defaultAction":"SCMP_ACT_ALLOW",` + all + `,"syscalls":[` + strings.Join(ops, ",") + `]}`,
		"masked": `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":5,` + all + `,"syscalls":[
			{"names":["getppid"],"action":"SCMP_ACT_ALLOW","args":[` + cond("SCMP_CMP_MASKED_EQ", 0, 0xff000000ff, 0x1200000012) + `]},
			{"names":["getpid"],"action":"SCMP_ACT_ALLOW","args":[` + cond("SCMP_CMP_MASKED_EQ", 1, 0xff, 0x100000012) + `]},
			{"names":["read","write","exit_group"],"action":"SCMP_ACT_ALLOW"}]}`,
		"and, or, unconditional": `{"defaultAction":"SCMP_ACT_KILL_PROCESS",` + all + `,"syscalls":[
			{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[` + cond("SCMP_CMP_EQ", 0, 8, 0) + `,` + cond("SCMP_CMP_EQ", 0, 0xffffffff, 0) + `]},
			{"names":["getppid"],"action":"SCMP_ACT_TRAP","args":[` + cond("SCMP_CMP_EQ", 0, 1, 0) + `,` + cond("SCMP_CMP_GT", 2, 7, 0) + `]},
			{"names":["getppid"],"action":"SCMP_ACT_TRAP","args":[` + cond("SCMP_CMP_LE", 3, 1<<40, 0) + `]},
			{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","args":[` + cond("SCMP_CMP_NE", 1, 0x1ed, 0) + `]},
			{"names":["mkdir","read"],"action":"SCMP_ACT_ALLOW"},
			{"names":["umask"],"action":"SCMP_ACT_LOG"},
			{"names":["umask"],"action":"SCMP_ACT_LOG","args":[` + cond("SCMP_CMP_EQ", 0, 18, 0) + `]}]}`,
		"long": `{"defaultAction":"SCMP_ACT_ALLOW",` + all + `,"syscalls":[{"names":[` + strings.Join(many, ",") + `],"action":"SCMP_ACT_ERRNO",
			"args":[` + cond("SCMP_CMP_GE", 0, 1<<33, 0) + `,` + cond("SCMP_CMP_MASKED_EQ", 5, 0xf0f0, 0x1010) + `]}]}`,
		"RuntimeDefault": "",
	}
	for name, js := range profiles {
		p := profile.RuntimeDefault(spec.CurrentCapabilities())
		if js != "" {
			p = parse(t, js)
		}
		names := sameInLibseccomp(p)
		for _, opts := range []filter.Options{{}, {Joint: true}, {Optimize: filter.OptimizeLinear}} {
			t.Run(fmt.Sprintf("%s/joint=%v/optimize=%d", name, opts.Joint, opts.Optimize), func(t *testing.T) {
				theirs, err := filter.Compile(p, opts)
				if err != nil {
					t.Fatal(err)
				}
				mine, err := filter.Compile(p, filter.WithNumbered(opts, names...))
				if err != nil {
					t.Fatal(err)
				}
				if len(mine.ByNumber) <= len(theirs.ByNumber) {
					t.Fatalf("forcing %d names by number made %d rules by number, as many as without (%d)", len(names), len(mine.ByNumber), len(theirs.ByNumber))
				}
				n := assertSameVerdictsArgs(t, p, theirs, mine)
				t.Logf("%d names by number, %d verdicts compared; %d instructions (libseccomp's: %d)", len(names), n, len(mine.Instructions), len(theirs.Instructions))
			})
		}
	}
}

// The denylist: listmount and statmount get EACCES on every ABI,
// as mkdir does, where libseccomp alone would drop their rule; on a kernel
// without them the filter answers ENOSYS, as that kernel would.
func TestDenylistByNumber(t *testing.T) {
	deny := parse(t, `{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
		"syscalls":[{"names":["listmount","statmount","mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}`)
	eacces, enosys := bpf.RetErrno|uint32(unix.EACCES), bpf.RetErrno|uint32(unix.ENOSYS)
	has := filter.KernelSyscalls{Newest: 470, Known: true}
	lacks := filter.KernelSyscalls{Newest: 456, Known: true}
	unknown := filter.KernelSyscalls{Reason: "the probe was stopped"}
	for _, tc := range []struct {
		name       string
		kernel     filter.KernelSyscalls
		newSyscall uint32
	}{
		{"kernel has them", has, eacces},
		{"kernel lacks them", lacks, enosys},
		{"probe could not tell", unknown, eacces},
	} {
		for _, opts := range []filter.Options{{}, {Joint: true}} {
			t.Run(fmt.Sprintf("%s/joint=%v", tc.name, opts.Joint), func(t *testing.T) {
				prog, err := filter.Compile(deny, filter.WithKernel(opts, tc.kernel))
				if err != nil {
					t.Fatal(err)
				}
				if len(prog.Ignored) != 0 || len(prog.ByNumber) != 6 {
					t.Errorf("ignored %v, by number %+v: want listmount and statmount by number on each of 3 ABIs", prog.Ignored, prog.ByNumber)
				}
				for _, arch := range x86Family {
					audit, bits, _ := filter.AuditArch(arch)
					for _, c := range []struct {
						nr   int32
						want uint32
					}{{458, tc.newSyscall}, {457, tc.newSyscall}, {459, bpf.RetAllow}, {456, bpf.RetAllow}, {1000, bpf.RetAllow}} {
						ret, _, err := bpf.Run(prog.Instructions, bpf.SeccompData{Nr: c.nr | bits, Arch: audit})
						if err != nil || ret != c.want {
							t.Errorf("%s nr %d: %s, want %s (%v)", arch, c.nr, bpf.RetName(ret), bpf.RetName(c.want), err)
						}
					}
					mkdir, ok := filter.SyscallNumber("mkdir", arch)
					if ret, _, _ := bpf.Run(prog.Instructions, bpf.SeccompData{Nr: mkdir, Arch: audit}); !ok || ret != eacces {
						t.Errorf("%s mkdir: %s, want EACCES", arch, bpf.RetName(ret))
					}
				}
			})
		}
	}
}

// The ENOSYS stub counts the syscalls filtered by number: an allowlist that
// allows mseal must let mseal through, not answer it ENOSYS as a syscall
// newer than the profile; the number above it still gets ENOSYS.
func TestENOSYSStubCountsNumbered(t *testing.T) {
	p := parse(t, `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
		"syscalls":[{"names":["read","write","mseal"],"action":"SCMP_ACT_ALLOW"}]}`)
	prog, err := filter.Compile(p, filter.WithKernel(filter.Options{}, filter.KernelSyscalls{Newest: 470, Known: true}))
	if err != nil {
		t.Fatal(err)
	}
	for _, arch := range x86Family {
		audit, bits, _ := filter.AuditArch(arch)
		for nr, want := range map[int32]uint32{462: bpf.RetAllow, 463: bpf.RetErrno | uint32(unix.ENOSYS), 461: bpf.RetErrno | uint32(unix.EPERM)} {
			if ret, _, _ := bpf.Run(prog.Instructions, bpf.SeccompData{Nr: nr | bits, Arch: audit}); ret != want {
				t.Errorf("%s nr %d: %s, want %s", arch, nr, bpf.RetName(ret), bpf.RetName(want))
			}
		}
	}
}

// sysgate's RuntimeDefault (containerd's profile) allows mseal, listmount
// and statmount by name; with libseccomp 2.5.4 alone they fell to the
// default action or the ENOSYS stub. Now they are allowed on every ABI, the
// kernel's action cache still answers them on x86_64 and x86, and no name
// of the profile is ignored.
func TestRuntimeDefaultAllowsNewSyscalls(t *testing.T) {
	p := profile.RuntimeDefault(profile.DefaultCapabilities)
	prog, err := filter.Compile(p, filter.WithKernel(filter.Options{}, filter.KernelSyscalls{Newest: 470, Known: true}))
	if err != nil {
		t.Fatal(err)
	}
	if len(prog.Ignored) != 0 {
		t.Errorf("ignored: %v", prog.Ignored)
	}
	for _, arch := range x86Family {
		audit, bits, _ := filter.AuditArch(arch)
		for _, name := range []string{"mseal", "listmount", "statmount"} {
			nr, ok := filter.SyscallNumber(name, arch)
			if !ok {
				t.Fatalf("%s has no %s", arch, name)
			}
			if ret, _, _ := bpf.Run(prog.Instructions, bpf.SeccompData{Nr: nr, Arch: audit}); ret != bpf.RetAllow {
				t.Errorf("%s %s: %s, want ALLOW", arch, name, bpf.RetName(ret))
			}
			if arch != specs.ArchX32 && !bpf.ConstantAllow(prog.Instructions, audit, nr&^bits) {
				t.Errorf("%s %s: allowed, but not cacheable by the kernel", arch, name)
			}
		}
	}
}

// Rules with argument conditions that give one syscall filtered by number
// two different actions are refused: libseccomp's choice between them
// follows its decision tree, which sysgate does not reproduce.
func TestNumberedRefusesTwoConditionalActions(t *testing.T) {
	p := parse(t, `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
		{"names":["listmount"],"action":"SCMP_ACT_ERRNO","args":[{"index":3,"value":1,"op":"SCMP_CMP_EQ"}]},
		{"names":["listmount"],"action":"SCMP_ACT_KILL_PROCESS","args":[{"index":3,"value":2,"op":"SCMP_CMP_EQ"}]}]}`)
	_, err := filter.Compile(p, filter.Options{})
	if err == nil || !strings.Contains(err.Error(), `syscalls[1].names[0] "listmount"`) || !strings.Contains(err.Error(), "same action") {
		t.Errorf("error %v, want one naming syscalls[1].names[0] and asking for the same action", err)
	}
}
