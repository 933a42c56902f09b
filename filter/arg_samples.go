package filter

import specs "github.com/opencontainers/runtime-spec/specs-go"

// ArgSamples is the argument vectors Explain runs every syscall with: each
// value a condition of the profile compares against, its neighbours and
// the masked values, at the condition's index, plus all zeros and all
// ones. Comparing two programs by meaning (sysgate verify) runs both over
// the same samples.
func ArgSamples(profile *specs.LinuxSeccomp) [][6]uint64 { return argSamples(profile) }
