package conformance

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/conformance/probe"
)

// profileMaxNr caps the allow-list of the ENOSYS cases: every x86_64
// syscall up to rseq (334), as in a profile written for an older kernel.
// faccessat2 (439 on both x86_64 and i386) is newer than all of them;
// unconfined it succeeds, so ENOSYS can only come from the filter.
const profileMaxNr = 335

// Arguments for faccessat2(AT_FDCWD, "/", F_OK, 0).
var faccessat2Args = []string{"-100", "s:/", "0", "0"}

// enosysCases: runc's rule, which sysgate adopts (README), that a syscall
// newer than the profile fails with ENOSYS, so that libc falls back to the
// older call, instead of the default action's EPERM, which libc takes as
// final.
func enosysCases() []Case {
	older := denying(specs.ActErrno, profileMaxNr, "mkdir", "mkdirat")
	return []Case{
		{
			Name: "enosys/newer-syscall", Rule: ruleEnosys,
			Summary: "faccessat2 (439), newer than every syscall the allow-list names, returns ENOSYS, not the default EPERM",
			Profile: older, Do: probeCall("faccessat2", faccessat2Args...), Want: want("errno:ENOSYS"),
		},
		{
			Name: "enosys/newer-syscall-i386", Rule: ruleEnosys,
			Summary: "the same through the i386 entry: ENOSYS",
			Profile: older, Do: probeCallABI(probe.ABII386, "faccessat2", faccessat2Args...), Want: want("errno:ENOSYS"),
		},
		{
			Name: "enosys/older-unlisted-keeps-default", Rule: ruleEnosysScope,
			Summary: "mkdir (83), older than the profile's newest syscall but not listed, still gets the default EPERM",
			Profile: older, Do: probeCall("mkdir", mkdirArgs...), Want: want("errno:EPERM"),
		},
		{
			Name: "enosys/allow-default-newer-allowed", Rule: ruleEnosysScope,
			Summary: "defaultAction SCMP_ACT_ALLOW: a syscall newer than the profile is allowed, not ENOSYS",
			Profile: allowing(rule(specs.ActErrno, "mkdir")), Do: probeCall("faccessat2", faccessat2Args...), Want: want("allowed"),
		},
	}
}
