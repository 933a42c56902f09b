package conformance

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// flagCases: the seccomp(2) flags a profile may ask for.
func flagCases() []Case {
	flagged := func(f specs.LinuxSeccompFlag) *specs.LinuxSeccomp {
		return with(allowing(rule(specs.ActErrno, "mkdir")), func(p *specs.LinuxSeccomp) { p.Flags = []specs.LinuxSeccompFlag{f} })
	}
	return []Case{
		{
			// The kernel logs ERRNO returns only for filters loaded with
			// this flag, so the audit record shows the flag was passed.
			Name: "flags/log", Rule: ruleFlagLog,
			Summary: "SECCOMP_FILTER_FLAG_LOG: the ERRNO return is enforced and written to the audit log",
			Profile: flagged(specs.LinuxSeccompFlagLog), Do: probeCall("mkdir", mkdirArgs...),
			Want: Expect{Outcome: "errno:EPERM", Audited: true},
		},
		{
			// Its effect (no forced speculative-store-bypass mitigation) is
			// visible only on CPUs and kernels that mitigate through
			// seccomp; everywhere, the filter must load with it.
			Name: "flags/spec-allow", Rule: ruleFlags,
			Summary: "SECCOMP_FILTER_FLAG_SPEC_ALLOW: the filter loads and is enforced",
			Profile: flagged(specs.LinuxSeccompFlagSpecAllow), Do: probeCall("mkdir", mkdirArgs...), Want: want("errno:EPERM"),
		},
	}
}
