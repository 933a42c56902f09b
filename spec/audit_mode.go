package spec

import (
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/spec/refusal"
)

// AnnotationAudit asks for audit mode for one container ("true"), honoured
// only in the policy's audit_opt_in_namespaces. containerd passes Pod
// annotations into the bundle when the runtime handler's pod_annotations
// allow them, so any Pod author can set it: honouring it everywhere would
// let them turn their own filter into LOG.
const AnnotationAudit = "io.github.sysgate.audit"

// wantsAudit decides audit mode: the whole node (audit), the container's
// namespace (audit_namespaces), or the container's own annotation where
// the namespace opted in. The annotation anywhere else is refused rather
// than ignored: the Pod author learns at create that it does not apply,
// instead of believing the workload is only being watched.
func wantsAudit(s *specs.Spec, c Container, policy Policy) (bool, error) {
	nsAudit, optIn := policy.auditsNamespace(c.Namespace)
	value, asked := s.Annotations[AnnotationAudit]
	switch {
	case !asked:
	case value != "true" && value != "false":
		return false, refusal.Errorf(refusal.BadInput, "annotation %s: %q must be \"true\" or \"false\"", AnnotationAudit, value)
	case value == "true" && !optIn:
		return false, refusal.Errorf(refusal.Policy, "annotation %s asks for audit mode, which would turn this container's denials into LOG, but namespace %q is not in audit_opt_in_namespaces of policy %s; remove the annotation or ask the node operator to list the namespace", AnnotationAudit, c.Namespace, policyName(policy))
	case value == "true":
		return true, nil
	}
	return policy.Audit || nsAudit, nil
}

// withLogFlag adds SECCOMP_FILTER_FLAG_LOG to a copy of the profile. An
// absent flags list means SPEC_ALLOW to runc ≥ 1.2, crun and sysgate's
// compiler (docs/design.md, "Flags"), so it is spelled out beside LOG
// rather than lost.
func withLogFlag(p *specs.LinuxSeccomp) *specs.LinuxSeccomp {
	out := *p
	flags := p.Flags
	if flags == nil {
		flags = []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagSpecAllow}
	}
	if slices.Contains(flags, specs.LinuxSeccompFlagLog) {
		return p
	}
	out.Flags = append(slices.Clone(flags), specs.LinuxSeccompFlagLog)
	return &out
}
