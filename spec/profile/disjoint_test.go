package profile

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/bpf"
)

func arg(index uint, op specs.LinuxSeccompOperator, v uint64) specs.LinuxSeccompArg {
	return specs.LinuxSeccompArg{Index: index, Op: op, Value: v}
}

func TestDisjoint(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b []specs.LinuxSeccompArg
		want bool
	}{
		{"equal values", []specs.LinuxSeccompArg{arg(0, specs.OpEqualTo, 1)}, []specs.LinuxSeccompArg{arg(0, specs.OpEqualTo, 1)}, false},
		{"different values", []specs.LinuxSeccompArg{arg(0, specs.OpEqualTo, 1)}, []specs.LinuxSeccompArg{arg(0, specs.OpEqualTo, 2)}, true},
		{"EQ against NE of it", []specs.LinuxSeccompArg{arg(2, specs.OpEqualTo, 9)}, []specs.LinuxSeccompArg{arg(2, specs.OpNotEqual, 9)}, true},
		{"EQ against NE of another", []specs.LinuxSeccompArg{arg(2, specs.OpEqualTo, 9)}, []specs.LinuxSeccompArg{arg(2, specs.OpNotEqual, 7)}, false},
		{"NE against NE", []specs.LinuxSeccompArg{arg(0, specs.OpNotEqual, 9)}, []specs.LinuxSeccompArg{arg(0, specs.OpNotEqual, 9)}, false},
		{"other arguments", []specs.LinuxSeccompArg{arg(0, specs.OpEqualTo, 1)}, []specs.LinuxSeccompArg{arg(1, specs.OpEqualTo, 2)}, false},
		{"LT against GE", []specs.LinuxSeccompArg{arg(0, specs.OpLessThan, 10)}, []specs.LinuxSeccompArg{arg(0, specs.OpGreaterEqual, 10)}, true},
		{"LE against GE meet", []specs.LinuxSeccompArg{arg(0, specs.OpLessEqual, 10)}, []specs.LinuxSeccompArg{arg(0, specs.OpGreaterEqual, 10)}, false},
		{"GT max matches nothing: overlap assumed", []specs.LinuxSeccompArg{arg(0, specs.OpGreaterThan, ^uint64(0))}, []specs.LinuxSeccompArg{arg(0, specs.OpEqualTo, 1)}, false},
		{"masked: overlap assumed", []specs.LinuxSeccompArg{{Index: 0, Op: specs.OpMaskedEqual, Value: 1, ValueTwo: 1}}, []specs.LinuxSeccompArg{arg(0, specs.OpEqualTo, 0)}, false},
		{"an index twice: overlap assumed", []specs.LinuxSeccompArg{arg(0, specs.OpEqualTo, 1), arg(0, specs.OpEqualTo, 2)}, []specs.LinuxSeccompArg{arg(0, specs.OpEqualTo, 3)}, false},
		{"one argument exclusive is enough", []specs.LinuxSeccompArg{arg(0, specs.OpEqualTo, 16), arg(2, specs.OpEqualTo, 9)}, []specs.LinuxSeccompArg{arg(0, specs.OpNotEqual, 16)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := disjoint(tc.a, tc.b); got != tc.want {
				t.Errorf("disjoint = %v, want %v", got, tc.want)
			}
			if got := disjoint(tc.b, tc.a); got != tc.want {
				t.Errorf("disjoint, swapped = %v, want %v", got, tc.want)
			}
		})
	}
}

// What the validator lets through means what it says: podman's socket
// rules (ERRNO for AF_NETLINK with NETLINK_AUDIT, ALLOW for any other
// domain or protocol), compiled by libseccomp and run in the interpreter,
// give each call the action of the rule that matches it.
func TestExclusiveRulesCompileAsWritten(t *testing.T) {
	einval := uint(22)
	p := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchX86_64}, Syscalls: []specs.LinuxSyscall{
		{Names: []string{"socket"}, Action: specs.ActErrno, ErrnoRet: &einval, Args: []specs.LinuxSeccompArg{arg(0, specs.OpEqualTo, 16), arg(2, specs.OpEqualTo, 9)}},
		{Names: []string{"socket"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{arg(2, specs.OpNotEqual, 9)}},
		{Names: []string{"socket"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{arg(0, specs.OpNotEqual, 16)}},
	}}
	prog, err := CompileValid(p, filter.Options{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	const socket = 41
	for _, tc := range []struct {
		domain, protocol uint64
		want             uint32
	}{
		{16, 9, bpf.RetErrno | 22},
		{16, 0, bpf.RetAllow},
		{2, 9, bpf.RetAllow},
		{2, 0, bpf.RetAllow},
	} {
		ret, _, err := bpf.Run(prog.Instructions, bpf.SeccompData{Nr: socket, Arch: bpf.AuditArchX86_64, Args: [6]uint64{tc.domain, 0, tc.protocol}})
		if err != nil || ret != tc.want {
			t.Errorf("socket(%d, _, %d) = %s (%v), want %s", tc.domain, tc.protocol, bpf.RetName(ret), err, bpf.RetName(tc.want))
		}
	}
}
