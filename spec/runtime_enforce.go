package spec

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/bpf"
	"github.com/sysgate/sysgate/spec/refusal"
)

// checkRuntimeEnforces refuses a profile the real runtime would enforce
// less strictly than sysgate's filter, so that a container never runs with
// a filter weaker than its profile says. That happens only where the
// runtime compiles linux.seccomp itself (runc): it resolves names with its
// own libseccomp and drops the rules of names it cannot, and it takes
// neither syscall numbers nor a compiled program. sysgate's rules by number
// for syscalls newer than libseccomp (listmount, statmount, mseal, ...)
// cannot reach it; a dropped rule that is more restrictive than what runc
// answers instead (the default action, or its stub's ENOSYS) would leave
// the syscall open. crun takes sysgate's program (Policy.HandsOverBPF), so
// it enforces them. Dropped rules that only restrict more than the profile
// (RuntimeDefault's ALLOW for mseal under an ERRNO default) pass: the
// container gets ENOSYS or EPERM there, as under runc alone.
func checkRuntimeEnforces(d Decision, prog *filter.Program, policy Policy) error {
	if prog == nil || policy.HandsOverBPF() {
		return nil
	}
	weakened, instead := filter.WeakenedByRuntimeCompile(d.Profile, prog)
	if len(weakened) == 0 {
		return nil
	}
	var rules, names []string
	for _, n := range weakened {
		if !slices.Contains(names, n.Name) {
			names = append(names, n.Name)
			rules = append(rules, fmt.Sprintf("%s %q (%s)", n.Rule, n.Name, bpf.RetName(n.Action)))
		}
	}
	where := d.Ref
	if d.ProfilePath != "" {
		where = d.ProfilePath
	}
	runtime := filepath.Base(policy.Runtime)
	// A refusal: the profile asks for what this node's runtime cannot
	// enforce, which a retry does not change.
	return refusal.Errorf(refusal.InvalidProfile, "the seccomp profile %s (asked by %s) cannot be enforced by %s: %s would get %s there instead: "+
		"%s compiles the profile with its own libseccomp, which cannot name %s (newer than libseccomp %s), and ignores such rules; "+
		"sysgate filters them by number only where the runtime loads sysgate's program: set runtime_kind = \"crun\" (and runtime to crun) in the policy, or remove the rules",
		where, d.From, runtime, strings.Join(rules, ", "), bpf.RetName(instead), runtime, strings.Join(names, ", "), filter.LibseccompVersion())
}
