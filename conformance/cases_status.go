package conformance

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// statusCases: what Kubernetes' critest checks, /proc/self/status's
// Seccomp field, for the init process and for a process started with exec,
// and that the exec'd process is not only marked but filtered.
func statusCases() []Case {
	profile := allowing(rule(specs.ActErrno, "mkdir"))
	return []Case{
		{
			Name: "status/init-seccomp-2", Rule: ruleSeccompStatus,
			Summary: "the container's init process runs in seccomp filter mode (Seccomp: 2)",
			Profile: profile, Do: Action{Kind: Status}, Want: want("seccomp:2"),
		},
		{
			Name: "status/exec-seccomp-2", Rule: ruleExec,
			Summary: "a process started with create, start, exec runs in filter mode too (Seccomp: 2)",
			Profile: profile, Do: Action{Kind: Status, Exec: true}, Want: want("seccomp:2"),
		},
		{
			Name: "status/exec-enforced", Rule: ruleExec,
			Summary: "the exec'd process is under the container's rules: mkdir returns EPERM",
			Profile: profile, Do: Action{Kind: Syscall, Syscall: "mkdir", Args: mkdirArgs, Exec: true}, Want: want("errno:EPERM"),
		},
		{
			Name: "status/no-profile-unconfined", Rule: ruleUnconfined,
			Summary: "a bundle without linux.seccomp runs unconfined (Seccomp: 0)",
			Profile: nil, Do: Action{Kind: Status}, Want: want("seccomp:0"),
		},
		{
			Name: "status/allow-only-profile", Rule: ruleEmpty,
			Summary: "a profile with only defaultAction SCMP_ACT_ALLOW allows mkdir",
			Profile: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}, Do: probeCall("mkdir", mkdirArgs...), Want: want("allowed"),
		},
	}
}
