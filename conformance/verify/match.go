package verify

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/filter/bpf"
	"github.com/sysgate/sysgate/filter/syscalls"
)

// Expected is one program the decided profile may legitimately be loaded
// as. The runtime that compiled the profile decides which: sysgate's own
// program (handed to crun, or what runc's own compile with its ENOSYS stub
// means), or the profile as crun compiles it without a stub.
type Expected struct {
	Name string
	// Instructions is the program; nil means unconfined: no filter.
	Instructions []bpf.Instruction
}

// Comparison is what the installed filters of one thread are, measured
// against the decided program.
type Comparison struct {
	// Equal: exactly the decided filter (one, or none when unconfined) is
	// installed, with the decided verdict for every ABI, syscall and
	// argument sampled.
	Equal bool `json:"equal"`
	// Matched names the Expected program an installed filter equals.
	Matched string `json:"matched,omitempty"`
	// Filters is how many filters are installed.
	Filters int `json:"filters"`
	// Findings say what is wrong, in words: a missing filter, extra
	// filters stacked on it, a filter from another source.
	Findings []string `json:"findings,omitempty"`
	// Differences are the verdicts of all installed filters together
	// that differ from the decided program's.
	Differences []Difference `json:"differences,omitempty"`
}

// allowAll is the program that means "no filter".
var allowAll = []bpf.Instruction{bpf.Return(bpf.RetAllow)}

// Compare measures the installed filters of a thread (newest first, as
// node.ReadFilters gives them) against the decided program, given as the
// programs it may have been loaded as (the first is the one to report
// differences against when none matches). profile is the decided profile,
// whose conditions say which arguments to sample; nil when unconfined.
// An error means the comparison could not be made: never equal.
func Compare(installed [][]bpf.Instruction, expected []Expected, profile *specs.LinuxSeccomp) (Comparison, error) {
	c := Comparison{Filters: len(installed)}
	if len(expected) == 0 {
		return c, fmt.Errorf("no decided program to compare with")
	}
	chain := make([]*bpf.Checked, len(installed))
	programs := make([][]bpf.Instruction, 0, len(installed)+len(expected))
	for i, insns := range installed {
		p, err := bpf.NewChecked(insns)
		if err != nil {
			return c, fmt.Errorf("installed filter %d of %d: the interpreter refuses what the kernel accepted, so it cannot be compared: %w", i+1, len(installed), err)
		}
		if readsInstructionPointer(insns) {
			return c, fmt.Errorf("installed filter %d of %d reads the instruction pointer, which the comparison does not sample: it cannot be compared by meaning", i+1, len(installed))
		}
		chain[i] = p
		programs = append(programs, insns)
	}
	decided := make([]*bpf.Checked, len(expected))
	for i, e := range expected {
		insns := e.Instructions
		if insns == nil {
			insns = allowAll
		}
		p, err := bpf.NewChecked(insns)
		if err != nil {
			return c, fmt.Errorf("the decided program (%s) is not a valid filter: %w", e.Name, err)
		}
		decided[i] = p
		programs = append(programs, insns)
	}
	samples := argSamples(profile, programs...)

	if expected[0].Instructions == nil {
		// Unconfined was decided: any filter is one sysgate did not give.
		c.Matched = expected[0].Name
		if len(chain) == 0 {
			c.Equal = true
			return c, nil
		}
		c.Findings = append(c.Findings, fmt.Sprintf("%d filter(s) installed where sysgate decided unconfined", len(chain)))
		var err error
		c.Differences, err = sweep(chain, decided[0], samples, false)
		return c, err
	}
	if len(chain) == 0 {
		c.Findings = append(c.Findings, "no filter installed: the decided filter is missing and the process runs unconfined")
		var err error
		c.Differences, err = sweep(nil, decided[0], samples, false)
		return c, err
	}

	// Which installed filter is the decided one? The first expected
	// program that one of them equals on its own.
	matchedAt, matchedAs := -1, -1
	for e := range decided {
		for i := range chain {
			diffs, err := sweep(chain[i:i+1], decided[e], samples, true)
			if err != nil {
				return c, err
			}
			if len(diffs) == 0 {
				matchedAt, matchedAs = i, e
				break
			}
		}
		if matchedAt >= 0 {
			break
		}
	}
	if matchedAt < 0 {
		c.Findings = append(c.Findings, fmt.Sprintf("no installed filter (of %d) equals the decided program: the filter came from another source (another profile, or a runtime that did not load sysgate's decision)", len(chain)))
		var err error
		c.Differences, err = sweep(chain, decided[0], samples, false)
		return c, err
	}
	c.Matched = expected[matchedAs].Name
	for i := range chain {
		switch {
		case i < matchedAt:
			c.Findings = append(c.Findings, fmt.Sprintf("filter %d of %d was stacked on top of the decided one after the container started (%d instructions)", i+1, len(chain), len(installed[i])))
		case i > matchedAt:
			c.Findings = append(c.Findings, fmt.Sprintf("filter %d of %d is older than the decided one: inherited from the process that started the container (%d instructions)", i+1, len(chain), len(installed[i])))
		}
	}
	if len(chain) == 1 {
		c.Equal = true
		return c, nil
	}
	var err error
	if c.Differences, err = sweep(chain, decided[matchedAs], samples, false); err == nil && len(c.Differences) == 0 {
		c.Findings = append(c.Findings, "together the filters give the decided verdict everywhere sampled, but the extra filters are not sysgate's")
	}
	return c, err
}

// readsInstructionPointer: a load of seccomp_data.instruction_pointer.
func readsInstructionPointer(insns []bpf.Instruction) bool {
	for _, in := range insns {
		if in.Code == bpf.OpLoadAbsolute && in.K >= bpf.OffsetInstructionPointer && in.K < bpf.OffsetArgs {
			return true
		}
	}
	return false
}

func syscallName(arch specs.Arch, n int32) string {
	a := abiOf(arch)
	name, _ := syscalls.Name(arch, int(n|a.nrBits))
	return name
}

func abiOf(arch specs.Arch) abi {
	for _, a := range abis {
		if a.arch == arch {
			return a
		}
	}
	return abi{}
}
