package filter

// Hooks for the external tests (package filter_test).

// WithNumbered returns opts that filter names by number wherever sysgate's
// table has them, even where libseccomp knows them: the rules by number can
// then be held against libseccomp's own program for the same names.
func WithNumbered(opts Options, names ...string) Options {
	opts.forceNumbered = map[string]bool{}
	for _, n := range names {
		opts.forceNumbered[n] = true
	}
	return opts
}

// WithKernel returns opts that compile for a kernel as k describes it,
// instead of the running one.
func WithKernel(opts Options, k KernelSyscalls) Options {
	opts.kernel = &k
	return opts
}

// NewestSyscallProgram and RunProbeProgram expose the kernel probe's parts.
var (
	NewestSyscallProgram = newestSyscallProgram
	RunProbeProgram      = runABIProgram
	ProbeFloor           = probeFloor
)
