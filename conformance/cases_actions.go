package conformance

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// actionCases: every action, as a rule's action and as the default action.
// The probe calls mkdir(2), which no runtime makes after loading the
// filter, so only the rule under test decides its verdict.
func actionCases() []Case {
	mkdir := probeCall("mkdir", mkdirArgs...)
	return []Case{
		{
			Name: "action/allow", Rule: ruleAction,
			Summary: "an allow-list profile (default ERRNO) lets a listed syscall through",
			Profile: denying(specs.ActErrno, anyNr), Do: mkdir, Want: want("allowed"),
		},
		{
			Name: "action/errno-default-eperm", Rule: ruleErrnoDefault,
			Summary: "SCMP_ACT_ERRNO without errnoRet returns EPERM",
			Profile: allowing(rule(specs.ActErrno, "mkdir")), Do: mkdir, Want: want("errno:EPERM"),
		},
		{
			Name: "action/errno-errnoret", Rule: ruleErrnoRet,
			Summary: "SCMP_ACT_ERRNO with errnoRet 18 returns EXDEV",
			Profile: allowing(ruleErrno(specs.ActErrno, errnoEXDEV, "mkdir")), Do: mkdir, Want: want("errno:EXDEV"),
		},
		{
			Name: "action/default-errno-eperm", Rule: ruleErrnoDefault,
			Summary: "defaultAction SCMP_ACT_ERRNO without defaultErrnoRet returns EPERM for an unlisted syscall",
			Profile: denying(specs.ActErrno, anyNr, "mkdir"), Do: mkdir, Want: want("errno:EPERM"),
		},
		{
			Name: "action/default-errnoret", Rule: ruleDefaultErrno,
			Summary: "defaultErrnoRet 6 makes the default action return ENXIO",
			Profile: with(denying(specs.ActErrno, anyNr, "mkdir"), func(p *specs.LinuxSeccomp) { p.DefaultErrnoRet = uintPtr(errnoENXIO) }),
			Do:      mkdir, Want: want("errno:ENXIO"),
		},
		{
			Name: "action/kill-thread", Rule: ruleKill,
			Summary: "SCMP_ACT_KILL_THREAD ends the (single-threaded) probe with SIGSYS",
			Profile: allowing(rule(specs.ActKillThread, "mkdir")), Do: mkdir, Want: want("killed:SIGSYS"),
		},
		{
			Name: "action/kill-process", Rule: ruleKill,
			Summary: "SCMP_ACT_KILL_PROCESS ends the probe with SIGSYS",
			Profile: allowing(rule(specs.ActKillProcess, "mkdir")), Do: mkdir, Want: want("killed:SIGSYS"),
		},
		{
			Name: "action/kill", Rule: ruleKill,
			Summary: "SCMP_ACT_KILL (KILL_THREAD in libseccomp) ends the probe with SIGSYS",
			Profile: allowing(rule(specs.ActKill, "mkdir")), Do: mkdir, Want: want("killed:SIGSYS"),
		},
		{
			Name: "action/default-kill-process", Rule: ruleDefaultAction,
			Summary: "defaultAction SCMP_ACT_KILL_PROCESS kills on an unlisted syscall",
			Profile: denying(specs.ActKillProcess, anyNr, "mkdir"), Do: mkdir, Want: want("killed:SIGSYS"),
		},
		{
			Name: "action/trap", Rule: ruleTrap,
			Summary: "SCMP_ACT_TRAP delivers SIGSYS (si_code SYS_SECCOMP) to the probe's handler",
			Profile: allowing(rule(specs.ActTrap, "mkdir")), Do: mkdir, Want: want("trap"),
		},
		{
			Name: "action/default-trap", Rule: ruleDefaultAction,
			Summary: "defaultAction SCMP_ACT_TRAP traps an unlisted syscall",
			Profile: denying(specs.ActTrap, anyNr, "mkdir"), Do: mkdir, Want: want("trap"),
		},
		{
			Name: "action/log", Rule: ruleLog,
			Summary: "SCMP_ACT_LOG allows the call and the kernel writes an audit record",
			Profile: allowing(rule(specs.ActLog, "mkdir")), Do: mkdir,
			Want: Expect{Outcome: "allowed", Audited: true},
		},
		{
			Name: "action/trace-no-tracer", Rule: ruleTrace,
			Summary: "SCMP_ACT_TRACE with no tracer attached returns ENOSYS",
			Profile: allowing(rule(specs.ActTrace, "mkdir")), Do: mkdir, Want: want("errno:ENOSYS"),
		},
		{
			Name: "action/trace-errnoret", Rule: ruleTrace,
			Summary: "SCMP_ACT_TRACE accepts errnoRet (the tracer's message); with no tracer the call still returns ENOSYS",
			Profile: allowing(ruleErrno(specs.ActTrace, errnoEXDEV, "mkdir")), Do: mkdir, Want: want("errno:ENOSYS"),
		},
		{
			Name: "action/notify", Rule: ruleNotify,
			Summary: "SCMP_ACT_NOTIFY: the agent at listenerPath receives the container process state (id, bundle, pid, metadata) and seccompFd, and its answer (EXDEV) is the call's result",
			Profile: with(allowing(rule(specs.ActNotify, "mkdir")), func(p *specs.LinuxSeccomp) {
				p.ListenerPath, p.ListenerMetadata = ListenerAgent, agentMetadata
			}),
			Do: mkdir, Want: want("errno:EXDEV"),
		},
		{
			Name: "action/notify-exec", Rule: ruleNotify,
			Summary: "SCMP_ACT_NOTIFY also reaches the agent for a process started with exec",
			Profile: with(allowing(rule(specs.ActNotify, "mkdir")), func(p *specs.LinuxSeccomp) {
				p.ListenerPath, p.ListenerMetadata = ListenerAgent, agentMetadata
			}),
			Do: Action{Kind: Syscall, Syscall: "mkdir", Args: mkdirArgs, Exec: true}, Want: want("errno:EXDEV"),
		},
	}
}
