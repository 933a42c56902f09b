package verify

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/filter/bpf"
)

// Difference is where the installed filters and the decided program give
// different verdicts: one syscall number, or a run of numbers that all
// differ the same way for every argument sampled.
type Difference struct {
	ABI specs.Arch `json:"abi"`
	// From and To are syscall numbers without the ABI's bits (x32's 0x40000000).
	From int32 `json:"from"`
	To   int32 `json:"to"`
	// Syscall names From when it is a single, known syscall.
	Syscall string `json:"syscall,omitempty"`
	// Args is the argument vector the verdicts differ for; nil: for every
	// vector sampled.
	Args      *[6]uint64 `json:"args,omitempty"`
	Installed string     `json:"installed"`
	Decided   string     `json:"decided"`
}

// maxArgDiffsPerSyscall bounds the argument vectors listed for one syscall
// whose verdicts differ for some arguments only.
const maxArgDiffsPerSyscall = 8

// sweep runs the installed chain (newest first, combined as the kernel
// combines stacked filters) and the decided program over every ABI,
// syscall number and, where either looks at the arguments, every sample,
// and returns where their verdicts differ. With first, it stops at the
// first difference: enough to say two programs differ.
func sweep(chain []*bpf.Checked, decided *bpf.Checked, samples [][6]uint64, first bool) ([]Difference, error) {
	var out []Difference
	rets := make([]uint32, len(chain))
	constant := make([]bool, len(chain))
	for _, a := range abis {
		for _, n := range syscallNumbers() {
			nr := n | a.nrBits
			allConstant := true
			for i, p := range chain {
				rets[i], constant[i] = bpf.ConstantResult(p.Instructions(), a.audit, nr)
				allConstant = allConstant && constant[i]
			}
			decRet, decConstant := bpf.ConstantResult(decided.Instructions(), a.audit, nr)
			if allConstant && decConstant {
				if inst, dec := meaning(stacked(rets)), meaning(decRet); inst != dec {
					out = appendDifference(out, Difference{ABI: a.arch, From: n, To: n, Installed: bpf.RetName(inst), Decided: bpf.RetName(dec)})
					if first {
						return out, nil
					}
				}
				continue
			}
			var perArgs []Difference
			same := true // every sample differs, and all the same way
			for _, args := range samples {
				d := bpf.SeccompData{Nr: nr, Arch: a.audit, Args: args}
				for i, p := range chain {
					if !constant[i] {
						ret, _, err := p.Run(d)
						if err != nil {
							return nil, fmt.Errorf("running installed filter %d for %s nr %d: %w", i, a.arch, n, err)
						}
						rets[i] = ret
					}
				}
				dec := decRet
				if !decConstant {
					ret, _, err := decided.Run(d)
					if err != nil {
						return nil, fmt.Errorf("running the decided program for %s nr %d: %w", a.arch, n, err)
					}
					dec = ret
				}
				inst, dec := meaning(stacked(rets)), meaning(dec)
				if inst == dec {
					same = false
					continue
				}
				args := args
				diff := Difference{ABI: a.arch, From: n, To: n, Args: &args, Installed: bpf.RetName(inst), Decided: bpf.RetName(dec)}
				if len(perArgs) > 0 && (perArgs[0].Installed != diff.Installed || perArgs[0].Decided != diff.Decided) {
					same = false
				}
				perArgs = append(perArgs, diff)
				if first {
					return append(out, diff), nil
				}
			}
			switch {
			case len(perArgs) == 0:
			case same:
				d := perArgs[0]
				d.Args = nil
				out = appendDifference(out, d)
			default:
				out = append(out, perArgs[:min(len(perArgs), maxArgDiffsPerSyscall)]...)
			}
		}
	}
	for i := range out {
		if out[i].From == out[i].To {
			out[i].Syscall = syscallName(out[i].ABI, out[i].From)
		}
	}
	return out, nil
}

// appendDifference extends the last difference when d continues its run:
// the next number of the same ABI, for all arguments, the same verdicts.
func appendDifference(out []Difference, d Difference) []Difference {
	if n := len(out); n > 0 {
		last := &out[n-1]
		if last.ABI == d.ABI && last.Args == nil && d.Args == nil && last.To+1 == d.From &&
			last.Installed == d.Installed && last.Decided == d.Decided {
			last.To = d.From
			return out
		}
	}
	return append(out, d)
}
