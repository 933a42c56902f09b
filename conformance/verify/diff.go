package verify

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/filter/bpf"
)

// Diff compares two programs by meaning, as verify compares an installed
// filter with the decided one (the same sweep): every x86 ABI, every
// syscall number to 1024 and the numbers beyond, and wherever either looks
// at the arguments, the boundaries both profiles' conditions and both
// programs draw. In each Difference, Installed is a's verdict and Decided
// is b's. `sysgate profile diff` reports them.
func Diff(a, b []bpf.Instruction, pa, pb *specs.LinuxSeccomp) ([]Difference, error) {
	ca, err := bpf.NewChecked(a)
	if err != nil {
		return nil, fmt.Errorf("the first program: %w", err)
	}
	cb, err := bpf.NewChecked(b)
	if err != nil {
		return nil, fmt.Errorf("the second program: %w", err)
	}
	samples := argSamples(pa, a, b)
	seen := make(map[[6]uint64]bool, len(samples))
	for _, s := range samples {
		seen[s] = true
	}
	for _, s := range argSamples(pb) {
		if len(samples) < maxSamples && !seen[s] {
			seen[s] = true
			samples = append(samples, s)
		}
	}
	return sweep([]*bpf.Checked{ca}, cb, samples, false)
}
