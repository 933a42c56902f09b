package filter

import (
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestArgSamplesCrossEveryBoundary(t *testing.T) {
	p := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{{
		Names: []string{"personality"}, Action: specs.ActAllow,
		Args: []specs.LinuxSeccompArg{{Index: 2, Value: 5, Op: specs.OpEqualTo}},
	}}}
	samples := ArgSamples(p)
	for _, want := range []uint64{5, 4, 6, ^uint64(5)} {
		var s [6]uint64
		s[2] = want
		if !slices.Contains(samples, s) {
			t.Errorf("no sample with args[2] = %#x in %v", want, samples)
		}
	}
	if !slices.Contains(samples, [6]uint64{}) {
		t.Error("no all-zero sample")
	}
	if got := len(ArgSamples(nil)); got != 2 {
		t.Errorf("a nil profile has %d samples, want the all-zero and all-one vectors", got)
	}
}
