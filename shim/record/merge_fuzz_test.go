package record

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/bpf"
	"github.com/sysgate/sysgate/spec/profile"
)

var fuzzNames = []string{"read", "write", "openat", "close", "mkdir", "personality", "socket", "clone"}
var fuzzActions = []specs.LinuxSeccompAction{specs.ActAllow, specs.ActLog, specs.ActErrno, specs.ActKillProcess}

// fuzzProfile builds a small profile from bytes: each pair of bytes a rule
// (names chosen by bits, an action, maybe a condition on argument 0).
func fuzzProfile(data []byte, def specs.LinuxSeccompAction) *specs.LinuxSeccomp {
	p := &specs.LinuxSeccomp{DefaultAction: def, Architectures: []specs.Arch{specs.ArchX86_64}}
	for i := 0; i+1 < len(data) && len(p.Syscalls) < 6; i += 2 {
		var names []string
		for b, n := range fuzzNames {
			if data[i]&(1<<b) != 0 {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			continue
		}
		r := specs.LinuxSyscall{Names: names, Action: fuzzActions[data[i+1]&3]}
		if data[i+1]&4 != 0 {
			r.Args = []specs.LinuxSeccompArg{{Index: 0, Value: uint64(data[i+1] >> 4), Op: specs.OpEqualTo}}
		}
		p.Syscalls = append(p.Syscalls, r)
	}
	return p
}

// FuzzMerge: whatever two valid profiles Merge accepts, the union is a
// valid profile that allows a call exactly when one of them does.
func FuzzMerge(f *testing.F) {
	f.Add([]byte{0x03, 0x00}, []byte{0x0c, 0x00})
	f.Add([]byte{0x10, 0x45, 0x01, 0x00}, []byte{0x10, 0x00})
	f.Add([]byte{0xff, 0x02}, []byte{0x01, 0x00})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		pa, pb := fuzzProfile(a, specs.ActErrno), fuzzProfile(b, specs.ActErrno)
		var progs [][]bpf.Instruction
		for _, p := range []*specs.LinuxSeccomp{pa, pb} {
			prog, err := profile.CompileValid(p, filter.Options{Arches: []specs.Arch{specs.ArchX86_64}}, nil, nil)
			if err != nil {
				return // not a valid input: merge validates inputs first
			}
			progs = append(progs, prog.Instructions)
		}
		merged, err := Merge([]Named{{"a", pa}, {"b", pb}})
		if err != nil {
			return
		}
		prog, err := profile.CompileValid(merged, filter.Options{Arches: []specs.Arch{specs.ArchX86_64}}, nil, nil)
		if err != nil {
			// Two valid inputs whose union is not valid (overlapping
			// conditions of two actions): sysgate profile merge refuses
			// it, writing nothing.
			return
		}
		for _, name := range fuzzNames {
			nr, _ := filter.SyscallNumber(name, specs.ArchX86_64)
			for _, arg := range []uint64{0, 1, 2, 7, 15, 16} {
				d := bpf.SeccompData{Nr: nr, Arch: bpf.AuditArchX86_64, Args: [6]uint64{arg}}
				allows := func(insns []bpf.Instruction) bool {
					ret, _, err := bpf.Run(insns, d)
					if err != nil {
						t.Fatal(err)
					}
					a := bpf.RetAction(ret)
					return a == bpf.RetAllow || a == bpf.RetLog
				}
				if u, any := allows(prog.Instructions), allows(progs[0]) || allows(progs[1]); u != any {
					t.Fatalf("%s(%d): union allows %v, an input %v\na %+v\nb %+v\nunion %+v", name, arg, u, any, pa, pb, merged)
				}
			}
		}
	})
}
