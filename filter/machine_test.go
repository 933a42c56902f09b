package filter_test

import (
	"fmt"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/bpf"
	"github.com/sysgate/sysgate/filter/syscalls"
	"github.com/sysgate/sysgate/spec/profile"
)

// armRuntimeDefault is containerd's RuntimeDefault as an arm64 node renders
// it, with caps.
func armRuntimeDefault(t testing.TB, caps []string) *specs.LinuxSeccomp {
	t.Helper()
	p, err := profile.RuntimeDefaultFor("arm64", caps)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// armProfiles are the arm family's counterparts of TestJoinedMatchesJoint's
// profiles: RuntimeDefault with and without CAP_SYS_ADMIN, aarch64 alone,
// and arm listed with conditions and arm's private calls.
func armProfiles(t *testing.T) map[string]*specs.LinuxSeccomp {
	return map[string]*specs.LinuxSeccomp{
		"RuntimeDefault":               armRuntimeDefault(t, profile.DefaultCapabilities),
		"RuntimeDefault+CAP_SYS_ADMIN": armRuntimeDefault(t, append(slices.Clone(profile.DefaultCapabilities), "CAP_SYS_ADMIN")),
		"aarch64 only":                 parse(t, `{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_AARCH64"],"syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`),
		"aarch64 and arm":              parse(t, `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":5,"architectures":["SCMP_ARCH_ARM"],"syscalls":[{"names":["read","write","getppid","set_tls","cacheflush"],"action":"SCMP_ACT_ALLOW"},{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"},{"index":0,"value":0,"op":"SCMP_CMP_EQ"}]},{"names":["mkdirat"],"action":"SCMP_ACT_TRAP"}]}`),
		"arm kill":                     parse(t, `{"defaultAction":"SCMP_ACT_KILL_PROCESS","architectures":["SCMP_ARCH_AARCH64","SCMP_ARCH_ARM"],"syscalls":[{"names":["read","_llseek","socketcall","mseal"],"action":"SCMP_ACT_ALLOW"},{"names":["mkdir"],"action":"SCMP_ACT_TRAP"}]}`),
	}
}

// TestARMTreeMatchesLinear and TestARMJoinedMatchesJoint are the x86
// proofs for an arm64 node's filters, compiled on any host: every number
// of aarch64 and arm (and arm's private calls) gets the same verdict from
// libseccomp's linear and tree layouts, and from sysgate's per-arch compile
// and libseccomp's joint program.
func TestARMTreeMatchesLinear(t *testing.T) {
	for name, p := range armProfiles(t) {
		t.Run(name, func(t *testing.T) {
			linear := compileFor(t, p, filter.Options{Optimize: filter.OptimizeLinear})
			tree := compileFor(t, p, filter.Options{Optimize: filter.OptimizeBinaryTree})
			n := assertSameVerdicts(t, p, linear, tree)
			t.Logf("%d verdicts compared; linear %d instructions, tree %d", n, len(linear.Instructions), len(tree.Instructions))
		})
	}
}

func TestARMJoinedMatchesJoint(t *testing.T) {
	for name, p := range armProfiles(t) {
		for _, opt := range []int{filter.OptimizeLinear, filter.OptimizeBinaryTree} {
			t.Run(fmt.Sprintf("%s/optimize=%d", name, opt), func(t *testing.T) {
				joint := compileFor(t, p, filter.Options{Optimize: opt, Joint: true})
				joined := compileFor(t, p, filter.Options{Optimize: opt})
				if joined.StubLength != joint.StubLength || !slices.Equal(joined.Ignored, joint.Ignored) {
					t.Errorf("stub %d vs %d, ignored %v vs %v", joined.StubLength, joint.StubLength, joined.Ignored, joint.Ignored)
				}
				assertSameVerdicts(t, p, joint, joined)
			})
		}
	}
}

func compileFor(t *testing.T, p *specs.LinuxSeccomp, opts filter.Options) *filter.Program {
	t.Helper()
	opts.Machine = filter.MachineARM64
	prog, err := filter.Compile(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	if prog.Arches[0] != specs.ArchAARCH64 {
		t.Fatalf("arches %v: the arm64 program must start with aarch64", prog.Arches)
	}
	return prog
}

// TestARM64Program: the arm64 RuntimeDefault program, read by the
// interpreter: AArch32 calls are filtered like aarch64 ones (the profile
// lists arm), never let through; a profile for aarch64 alone kills every
// AArch32 call (the bad-arch action), which is what stops the compat-entry
// bypass; x86 calls are killed on an arm64 program.
func TestARM64Program(t *testing.T) {
	p := armRuntimeDefault(t, profile.DefaultCapabilities)
	prog := compileFor(t, p, filter.Options{})
	if !slices.Equal(prog.Arches, []specs.Arch{specs.ArchAARCH64, specs.ArchARM}) {
		t.Errorf("arches %v, want aarch64 then arm", prog.Arches)
	}
	verdict := func(prog *filter.Program, arch specs.Arch, name string) string {
		t.Helper()
		nr, ok := syscalls.Number(arch, name)
		if !ok {
			t.Fatalf("%s has no %s", arch, name)
		}
		audit, _, err := filter.AuditArch(arch)
		if err != nil {
			t.Fatal(err)
		}
		ret, _, err := bpf.Run(prog.Instructions, bpf.SeccompData{Nr: int32(nr), Arch: audit})
		if err != nil {
			t.Fatal(err)
		}
		return bpf.RetName(ret)
	}
	for _, c := range []struct {
		arch       specs.Arch
		name, want string
	}{
		{specs.ArchAARCH64, "getppid", "SCMP_ACT_ALLOW"},
		{specs.ArchAARCH64, "mount", "SCMP_ACT_ERRNO(1)"},
		{specs.ArchAARCH64, "clone3", "SCMP_ACT_ERRNO(38)"},
		{specs.ArchARM, "getppid", "SCMP_ACT_ALLOW"},
		{specs.ArchARM, "mkdir", "SCMP_ACT_ALLOW"},
		{specs.ArchARM, "mount", "SCMP_ACT_ERRNO(1)"},
		{specs.ArchARM, "set_tls", "SCMP_ACT_ALLOW"},
		{specs.ArchARM, "cacheflush", "SCMP_ACT_ALLOW"},
		{specs.ArchARM, "arm_fadvise64_64", "SCMP_ACT_ALLOW"},
	} {
		if got := verdict(prog, c.arch, c.name); got != c.want {
			t.Errorf("%s %s: %s, want %s", c.arch, c.name, got, c.want)
		}
	}
	ret, _, _ := bpf.Run(prog.Instructions, bpf.SeccompData{Nr: 39, Arch: bpf.AuditArchX86_64})
	if bpf.RetAction(ret) != bpf.RetKillProcess {
		t.Errorf("an x86_64 call on the arm64 program: %s, want KILL_PROCESS", bpf.RetName(ret))
	}

	only64 := compileFor(t, parse(t, `{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_AARCH64"],"syscalls":[{"names":["mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`), filter.Options{})
	if got := verdict(only64, specs.ArchAARCH64, "mkdirat"); got != "SCMP_ACT_ERRNO(1)" {
		t.Errorf("aarch64-only profile, aarch64 mkdirat: %s", got)
	}
	for _, name := range []string{"mkdir", "mkdirat", "getppid"} {
		if got := verdict(only64, specs.ArchARM, name); got != "SCMP_ACT_KILL_PROCESS" {
			t.Errorf("aarch64-only profile, arm %s: %s, want SCMP_ACT_KILL_PROCESS (bad arch)", name, got)
		}
	}
}

// TestMachinesAgree: one profile that lists both families, compiled for an
// x86 node and for an arm64 node, gives the same verdict for every syscall
// name both tables have, 64-bit ABI against 64-bit ABI (x86_64, aarch64)
// and 32-bit against 32-bit (x86, arm), over the profile's argument
// samples. Numbers differ between the tables; names, rules and verdicts
// must not.
func TestMachinesAgree(t *testing.T) {
	for name, p := range map[string]*specs.LinuxSeccomp{
		"RuntimeDefault (x86 rules)":   withArches(profile.RuntimeDefault(profile.DefaultCapabilities)),
		"RuntimeDefault (arm64 rules)": withArches(armRuntimeDefault(t, profile.DefaultCapabilities)),
		"RuntimeDefault+CAP_SYS_ADMIN": withArches(armRuntimeDefault(t, append(slices.Clone(profile.DefaultCapabilities), "CAP_SYS_ADMIN"))),
		"denylist":                     parse(t, `{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32","SCMP_ARCH_AARCH64","SCMP_ARCH_ARM"],"syscalls":[{"names":["mkdir","mkdirat","unshare","mount"],"action":"SCMP_ACT_ERRNO"},{"names":["personality"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":8,"op":"SCMP_CMP_NE"}]}]}`),
	} {
		t.Run(name, func(t *testing.T) {
			x86, err := filter.Compile(p, filter.Options{Machine: filter.MachineAMD64})
			if err != nil {
				t.Fatal(err)
			}
			arm := compileFor(t, p, filter.Options{})
			samples := argBoundaries(p)
			compared := 0
			for _, pair := range [][2]specs.Arch{{specs.ArchX86_64, specs.ArchAARCH64}, {specs.ArchX86, specs.ArchARM}} {
				for _, sc := range syscalls.Names(pair[0]) {
					nrX, _ := syscalls.Number(pair[0], sc)
					nrA, ok := syscalls.Number(pair[1], sc)
					if !ok {
						continue
					}
					auditX, _, _ := filter.AuditArch(pair[0])
					auditA, _, _ := filter.AuditArch(pair[1])
					for _, args := range samples {
						rx, _, errX := bpf.Run(x86.Instructions, bpf.SeccompData{Nr: int32(nrX), Arch: auditX, Args: args})
						ra, _, errA := bpf.Run(arm.Instructions, bpf.SeccompData{Nr: int32(nrA), Arch: auditA, Args: args})
						if errX != nil || errA != nil || rx != ra {
							t.Errorf("%s: on %s (%d) %s, on %s (%d) %s (%v %v)", sc, pair[0], nrX, bpf.RetName(rx), pair[1], nrA, bpf.RetName(ra), errX, errA)
						}
						compared++
					}
				}
			}
			t.Logf("%d verdicts compared across the two machines", compared)
		})
	}
}

// withArches lists both families, so that one profile serves both nodes.
func withArches(p *specs.LinuxSeccomp) *specs.LinuxSeccomp {
	p.Architectures = []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32, specs.ArchAARCH64, specs.ArchARM}
	return p
}

// TestMachineNamed: the names the CLI accepts for a machine.
func TestMachineNamed(t *testing.T) {
	for in, want := range map[string]*filter.Machine{
		"amd64": filter.MachineAMD64, "x86_64": filter.MachineAMD64, "SCMP_ARCH_X86_64": filter.MachineAMD64,
		"arm64": filter.MachineARM64, "aarch64": filter.MachineARM64, "AArch64": filter.MachineARM64,
	} {
		if got, err := filter.MachineNamed(in); err != nil || got != want {
			t.Errorf("MachineNamed(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "arm", "x86", "s390x", "riscv64"} {
		if _, err := filter.MachineNamed(in); err == nil {
			t.Errorf("MachineNamed(%q) accepted", in)
		}
	}
	if filter.MachineOf(specs.ArchARM) != filter.MachineARM64 || filter.MachineOf(specs.ArchX32) != filter.MachineAMD64 || filter.MachineOf(specs.ArchS390X) != nil {
		t.Error("MachineOf puts an ABI in the wrong family")
	}
}
