package conformance

// The rules cases cite. Each names its source precisely enough to look it
// up: a section of the OCI runtime spec's config-linux.md (v1.3.0, the
// version go.mod pins), a Kubernetes document, the kernel's seccomp
// documentation, or the seed document the project grew from
// (/work/shared/seed). Where no standard says anything (ENOSYS for new
// syscalls, unknown names), the rule is the de-facto one and says so.
const (
	ruleDefaultAction = "runtime-spec config-linux.md#seccomp: defaultAction (REQUIRED), the action for syscalls no rule matches"
	ruleAction        = "runtime-spec config-linux.md#seccomp: syscalls[].action, constants of libseccomp's seccomp.h"
	ruleErrnoDefault  = "runtime-spec config-linux.md#seccomp: errnoRet \"If not specified its default value is EPERM\""
	ruleErrnoRet      = "runtime-spec config-linux.md#seccomp: syscalls[].errnoRet, the errno SCMP_ACT_ERRNO returns"
	ruleDefaultErrno  = "runtime-spec config-linux.md#seccomp: defaultErrnoRet, the errno of the default action"
	ruleErrnoMust     = "runtime-spec config-linux.md#seccomp: errnoRet/defaultErrnoRet \"When the action doesn't support an errno, the runtime MUST print and error and fail\""
	ruleKill          = "runtime-spec config-linux.md#seccomp: SCMP_ACT_KILL*; kernel seccomp_filter.rst: SECCOMP_RET_KILL_THREAD/PROCESS end the task as though killed by SIGSYS"
	ruleTrap          = "runtime-spec config-linux.md#seccomp: SCMP_ACT_TRAP; kernel seccomp_filter.rst: SECCOMP_RET_TRAP sends SIGSYS with si_code SYS_SECCOMP"
	ruleLog           = "runtime-spec config-linux.md#seccomp: SCMP_ACT_LOG; kernel seccomp_filter.rst: SECCOMP_RET_LOG allows the call after logging it"
	ruleTrace         = "runtime-spec config-linux.md#seccomp: SCMP_ACT_TRACE; kernel seccomp_filter.rst: \"If there is no tracer present, -ENOSYS is returned\""
	ruleNotify        = "runtime-spec config-linux.md#seccomp: listenerPath, \"the runtime MUST send exactly one container process state per connection\" (ociVersion, fds [seccompFd] via SCM_RIGHTS, pid REQUIRED, metadata, state)"
	ruleListenerFail  = "runtime-spec config-linux.md#seccomp: listenerPath \"If sending to this socket fails, the runtime MUST generate an error\""
	ruleListenerMeta  = "runtime-spec config-linux.md#seccomp: listenerMetadata \"MUST NOT be set if listenerPath is not set\""
	ruleUnknownValue  = "runtime-spec config-linux.md#seccomp: actions, architectures, operators and flags \"are strings that match the definitions in seccomp.h\"; runtime.md#create: a runtime that cannot apply the config MUST generate an error"
	ruleNames         = "runtime-spec config-linux.md#seccomp: syscalls[].names \"MUST contain at least one entry\""
	ruleUnknownName   = "runtime-spec config-linux.md#seccomp: syscalls[].names; unknown names are unspecified (runtime-spec#972): refuse, or ignore them without dropping the rule's other names"
	ruleNewerDeny     = "runtime-spec config-linux.md#seccomp: syscalls[].names, the syscalls a rule applies to, whatever the runtime's libseccomp knows; a runtime that cannot filter a syscall newer than its libseccomp fails creation rather than run without the rule (de facto: sysgate, issue 22; runtime-spec#972)"
	ruleNewerAllow    = "runtime-spec config-linux.md#seccomp: syscalls[].names; a syscall the profile allows by name runs, whatever the age of the runtime's libseccomp (containerd's RuntimeDefault allows mseal, listmount, statmount)"
	ruleOperator      = "runtime-spec config-linux.md#seccomp: syscalls[].args[].op, libseccomp's SCMP_CMP_* semantics on the 64-bit argument"
	ruleArgsAnd       = "runtime-spec config-linux.md#seccomp: syscalls[].args, conditions on different arguments all apply (libseccomp seccomp_rule_add)"
	ruleArgsOr        = "runc/crun (de facto, relied on by containerd's RuntimeDefault): repeated args[].index on one rule means OR, one libseccomp rule per condition"
	ruleArch          = "runtime-spec config-linux.md#seccomp: architectures, the ABIs the filter covers with the same rules"
	ruleBadArch       = "runtime-spec config-linux.md#seccomp: architectures; libseccomp SCMP_FLTATR_ACT_BADARCH (KILL): a call through an ABI the profile does not list must not pass"
	ruleEnosys        = "runc (PR #2750, runtime-spec#1266) and sysgate README: syscalls newer than every syscall the profile names return ENOSYS, so libc falls back"
	ruleEnosysScope   = "runc (PR #2750): the ENOSYS stub covers only numbers above the profile's largest; known syscalls keep the profile's verdict"
	ruleFlags         = "runtime-spec config-linux.md#seccomp: flags, passed to seccomp(2)"
	ruleFlagLog       = "runtime-spec config-linux.md#seccomp: flags SECCOMP_FILTER_FLAG_LOG; seccomp(2): log every action but SECCOMP_RET_ALLOW"
	ruleSeccompStatus = "Kubernetes cri-tools critest (security_context_linux.go): a confined container shows \"Seccomp: 2\" in /proc/self/status; Kubernetes docs (tutorials/security/seccomp)"
	ruleExec          = "runtime-spec config.md#process and runtime.md#exec: an exec'd process gets the container's seccomp profile (runc exec, kubectl exec)"
	ruleUnconfined    = "runtime-spec config-linux.md#seccomp (OPTIONAL) and Kubernetes Unconfined: no linux.seccomp means no filter, \"Seccomp: 0\""
	ruleEmpty         = "runtime-spec config-linux.md#seccomp: syscalls (OPTIONAL); a profile with only defaultAction SCMP_ACT_ALLOW allows everything"
	ruleRedundant     = "runtime-spec config-linux.md#seccomp: a rule whose action equals defaultAction changes nothing and must not fail creation (libseccomp EACCES, podman#11029, runc 1.0.2)"
	ruleSeedMkdir     = "seed: \"kubectl exec custom-seccomp -- mkdir /tmp/test\" prints \"Operation not permitted\" under a profile without mkdir"
	ruleSeedBothSides = "seed: \"does what should be blocked get blocked, and does what should run still run\""
	ruleSeedDefault   = "seed and Kubernetes RuntimeDefault (containerd's default profile): blocks dangerous syscalls such as keyctl, mount and unshare"
)
