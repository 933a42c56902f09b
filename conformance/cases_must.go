package conformance

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// mustCases: configurations the spec says a runtime MUST NOT run, or that
// it cannot apply as written. Each would otherwise run with a filter that
// differs from what the profile says; the probe's mkdir shows which.
func mustCases() []Case {
	mkdir := probeCall("mkdir", mkdirArgs...)
	refused := want(OutcomeRefused)
	return []Case{
		{
			Name: "must/errnoret-with-allow", Rule: ruleErrnoMust,
			Summary: "errnoRet on an SCMP_ACT_ALLOW rule is refused",
			Profile: allowing(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActAllow, ErrnoRet: uintPtr(errnoEXDEV)}),
			Do:      mkdir, Want: refused,
		},
		{
			Name: "must/errnoret-with-kill", Rule: ruleErrnoMust,
			Summary: "errnoRet on an SCMP_ACT_KILL_PROCESS rule is refused",
			Profile: allowing(ruleErrno(specs.ActKillProcess, errnoEXDEV, "mkdir")), Do: mkdir, Want: refused,
		},
		{
			Name: "must/errnoret-with-trap", Rule: ruleErrnoMust,
			Summary: "errnoRet on an SCMP_ACT_TRAP rule is refused",
			Profile: allowing(ruleErrno(specs.ActTrap, errnoEXDEV, "mkdir")), Do: mkdir, Want: refused,
		},
		{
			Name: "must/errnoret-with-log", Rule: ruleErrnoMust,
			Summary: "errnoRet on an SCMP_ACT_LOG rule is refused",
			Profile: allowing(ruleErrno(specs.ActLog, errnoEXDEV, "mkdir")), Do: mkdir, Want: refused,
		},
		{
			Name: "must/default-errnoret-with-allow", Rule: ruleErrnoMust,
			Summary: "defaultErrnoRet with defaultAction SCMP_ACT_ALLOW is refused",
			Profile: with(allowing(rule(specs.ActErrno, "mkdir")), func(p *specs.LinuxSeccomp) { p.DefaultErrnoRet = uintPtr(errnoENXIO) }),
			Do:      mkdir, Want: refused,
		},
		{
			Name: "must/listener-metadata-without-path", Rule: ruleListenerMeta,
			Summary: "listenerMetadata without listenerPath is refused",
			Profile: with(allowing(rule(specs.ActErrno, "mkdir")), func(p *specs.LinuxSeccomp) { p.ListenerMetadata = agentMetadata }),
			Do:      mkdir, Want: refused,
		},
		{
			Name: "must/listener-unreachable", Rule: ruleListenerFail,
			Summary: "SCMP_ACT_NOTIFY with nothing listening at listenerPath is an error",
			Profile: with(allowing(rule(specs.ActNotify, "mkdir")), func(p *specs.LinuxSeccomp) { p.ListenerPath = ListenerMissing }),
			Do:      mkdir, Want: refused,
		},
		{
			Name: "must/unknown-action", Rule: ruleUnknownValue,
			Summary: "a rule with an action libseccomp does not define is refused",
			Profile: allowing(rule("SCMP_ACT_SYSGATE_UNKNOWN", "mkdir")), Do: mkdir, Want: refused,
		},
		{
			Name: "must/unknown-default-action", Rule: ruleUnknownValue,
			Summary: "a defaultAction libseccomp does not define is refused",
			Profile: with(allowing(rule(specs.ActErrno, "mkdir")), func(p *specs.LinuxSeccomp) { p.DefaultAction = "SCMP_ACT_SYSGATE_UNKNOWN" }),
			Do:      mkdir, Want: refused,
		},
		{
			Name: "must/unknown-operator", Rule: ruleUnknownValue,
			Summary: "an argument condition with an operator libseccomp does not define is refused",
			Profile: allowing(ruleArgs("mkdir", specs.LinuxSeccompArg{Index: 1, Value: 493, Op: "SCMP_CMP_SYSGATE_UNKNOWN"})),
			Do:      mkdir, Want: refused,
		},
		{
			Name: "must/unknown-arch", Rule: ruleUnknownValue,
			Summary: "an architecture libseccomp does not define is refused",
			Profile: with(allowing(rule(specs.ActErrno, "mkdir")), func(p *specs.LinuxSeccomp) {
				p.Architectures = append(p.Architectures, "SCMP_ARCH_SYSGATE_UNKNOWN")
			}),
			Do: mkdir, Want: refused,
		},
		{
			Name: "must/unknown-flag", Rule: ruleUnknownValue,
			Summary: "a flag seccomp(2) does not define is refused",
			Profile: with(allowing(rule(specs.ActErrno, "mkdir")), func(p *specs.LinuxSeccomp) {
				p.Flags = []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_SYSGATE_UNKNOWN"}
			}),
			Do: mkdir, Want: refused,
		},
		{
			Name: "must/empty-names", Rule: ruleNames,
			Summary: "a rule with an empty names list is refused",
			Profile: allowing(rule(specs.ActErrno, "mkdir"), specs.LinuxSyscall{Names: []string{}, Action: specs.ActErrno}),
			Do:      mkdir, Want: refused,
		},
		{
			Name: "must/missing-default-action", Rule: ruleDefaultAction,
			Summary: "an empty profile {} (no defaultAction, which is REQUIRED) is refused, not run unconfined",
			Profile: &specs.LinuxSeccomp{}, Do: Action{Kind: Status}, Want: refused,
		},
	}
}
