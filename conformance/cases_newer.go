package conformance

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/conformance/probe"
)

// errnoEACCES is the errno of the issue-22 denylist: listmount(NULL, ...)
// itself fails with EFAULT, so EACCES can only come from the rule.
const errnoEACCES = 13

// newerCases: rules that name syscalls newer than the libseccomp the
// runtimes link (Debian 12's 2.5.4): listmount and statmount (Linux 6.8),
// mseal (6.10). A runtime that resolves names with such a libseccomp drops
// the rule; sysgate filters the syscall by its number. The reference kernel
// (6.12) has all three.
func newerCases() []Case {
	deny := allowing(ruleErrno(specs.ActErrno, errnoEACCES, "listmount", "statmount", "mkdir"))
	allowMseal := with(denying(specs.ActErrno, anyNr, "mkdir", "mkdirat"), func(p *specs.LinuxSeccomp) {
		p.Syscalls = append(p.Syscalls, rule(specs.ActAllow, "mseal"))
	})
	null4 := []string{"0", "0", "0", "0"}
	return []Case{
		{
			Name: "newer/deny-listmount", Rule: ruleNewerDeny,
			Summary: "a denylist naming listmount (458, newer than libseccomp 2.5.4): listmount gets the rule's EACCES, or creation fails; never the kernel's EFAULT",
			Profile: deny, Do: probeCall("listmount", null4...), Want: want("errno:EACCES", OutcomeRefused),
		},
		{
			Name: "newer/deny-statmount-i386", Rule: ruleNewerDeny,
			Summary: "the same rule through the i386 entry: statmount (457) gets EACCES, or creation fails",
			Profile: deny, Do: probeCallABI(probe.ABII386, "statmount", null4...), Want: want("errno:EACCES", OutcomeRefused),
		},
		{
			Name: "newer/deny-listmount-x32", Rule: ruleNewerDeny, NeedsX32: true,
			Summary: "the same rule through the x32 entry: listmount (458|x32) gets EACCES, or creation fails",
			Profile: deny, Do: probeCallABI(probe.ABIX32, "listmount", null4...), Want: want("errno:EACCES", OutcomeRefused),
		},
		{
			Name: "newer/allow-mseal", Rule: ruleNewerAllow,
			Summary: "an allow-list that allows mseal (462, newer than libseccomp 2.5.4): mseal(0, 0, 0) runs and succeeds",
			Profile: allowMseal, Do: probeCall("mseal", "0", "0", "0"), Want: want("allowed"),
		},
	}
}
