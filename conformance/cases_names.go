package conformance

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// nameCases: how names[] is read.
func nameCases() []Case {
	return []Case{
		{
			Name: "names/unknown-name", Rule: ruleUnknownName,
			Summary: "a name libseccomp does not know either fails creation or is ignored; mkdir in the same rule stays denied",
			Profile: allowing(rule(specs.ActErrno, "mkdir", "sysgate_no_such_syscall")),
			Do:      probeCall("mkdir", mkdirArgs...), Want: want("errno:EPERM", OutcomeRefused),
		},
		{
			Name: "names/every-name", Rule: ruleNames,
			Summary: "the action applies to every name of a rule, not only the first: umask, third of three, gets EXDEV",
			Profile: allowing(ruleErrno(specs.ActErrno, errnoEXDEV, "mkdir", "rmdir", "umask")),
			Do:      probeCall("umask", "18"), Want: want("errno:EXDEV"),
		},
		{
			Name: "names/rule-equal-to-default", Rule: ruleRedundant,
			Summary: "an ERRNO rule under an ERRNO default is accepted and changes nothing: mkdir returns EPERM",
			Profile: with(denying(specs.ActErrno, anyNr, "mkdir", "mkdirat"), func(p *specs.LinuxSeccomp) {
				p.Syscalls = append(p.Syscalls, rule(specs.ActErrno, "mkdir"))
			}),
			Do: probeCall("mkdir", mkdirArgs...), Want: want("errno:EPERM"),
		},
	}
}
