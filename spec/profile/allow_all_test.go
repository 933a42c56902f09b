package profile

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/bpf"
)

// AllowsEverything judges the profile's JSON; the interpreter proves the
// judgement on the compiled programs: every native syscall number, with
// zero arguments and with the argument a rule names, is allowed exactly
// when AllowsEverything says so.
func TestAllowsEverythingMatchesTheProgram(t *testing.T) {
	arg := []specs.LinuxSeccompArg{{Index: 0, Value: 7, Op: specs.OpEqualTo}}
	for _, tc := range []struct {
		name string
		p    specs.LinuxSeccomp
		want bool
	}{
		{"ALLOW, no rules", specs.LinuxSeccomp{DefaultAction: specs.ActAllow}, true},
		{"LOG, no rules", specs.LinuxSeccomp{DefaultAction: specs.ActLog}, true},
		{"ALLOW with LOG and ALLOW rules", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActLog}, {Names: []string{"read"}, Action: specs.ActAllow, Args: arg}}}, true},
		{"ALLOW with an ERRNO rule", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno}}}, false},
		{"ALLOW with a KILL rule on one argument value", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"personality"}, Action: specs.ActKillProcess, Args: arg}}}, false},
		{"ERRNO default", specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read"}, Action: specs.ActAllow}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := AllowsEverything(&tc.p); got != tc.want {
				t.Fatalf("AllowsEverything = %v, want %v", got, tc.want)
			}
			p := tc.p
			p.Architectures = []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}
			prog, err := filter.Compile(&p, filter.Options{})
			if err != nil {
				t.Fatal(err)
			}
			everyCallAllowed := true
			for _, arch := range p.Architectures {
				audit, bits, err := filter.AuditArch(arch)
				if err != nil {
					t.Fatal(err)
				}
				for nr := int32(0); nr < 600; nr++ {
					for _, a0 := range []uint64{0, 7} {
						ret, _, err := bpf.Run(prog.Instructions, bpf.SeccompData{Nr: nr | bits, Arch: audit, Args: [6]uint64{a0}})
						if err != nil {
							t.Fatal(err)
						}
						if a := bpf.RetAction(ret); a != bpf.RetAllow && a != bpf.RetLog {
							everyCallAllowed = false
						}
					}
				}
			}
			if everyCallAllowed != tc.want {
				t.Errorf("the interpreter says every call is allowed: %v; AllowsEverything: %v", everyCallAllowed, tc.want)
			}
		})
	}
}
