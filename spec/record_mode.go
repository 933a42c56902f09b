package spec

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/spec/profile"
	"github.com/sysgate/sysgate/spec/refusal"
)

// AnnotationRecord puts a container in record mode: its decided profile
// with every denying outcome turned into LOG, its calls counted by the
// helper, and at its end the allowlist of what it did written under the
// policy's record_dir. Honoured only in record_namespaces: a Pod author
// elsewhere must not turn their own filter into LOG.
const AnnotationRecord = "io.github.sysgate/record"

// RecordRequest is a decided recording: its name (the annotation's value)
// and the file its profile goes to.
type RecordRequest struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

var recordName = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$`)

// wantsRecord decides record mode from the annotation and the policy.
func wantsRecord(s *specs.Spec, c Container, policy Policy) (*RecordRequest, error) {
	name, asked := s.Annotations[AnnotationRecord]
	if !asked || c.Sandbox {
		// The Pod annotation reaches the Pod's pause container too, which
		// runs nothing of the workload's.
		return nil, nil
	}
	if c.Namespace == "" || !slices.Contains(policy.RecordNamespaces, c.Namespace) {
		return nil, refusal.Errorf(refusal.Policy, "annotation %s asks to record this container, which runs it with its denials turned into LOG, but namespace %q is not in record_namespaces of policy %s; remove the annotation or ask the node operator to list the namespace", AnnotationRecord, c.Namespace, policyName(policy))
	}
	if !recordName.MatchString(name) {
		return nil, refusal.Errorf(refusal.BadInput, "annotation %s: %q is not a recording name (lower-case letters, digits, '-' and '.', at most 63)", AnnotationRecord, name)
	}
	for _, part := range []struct{ what, v string }{{"pod", c.Pod}, {"container", c.Name}, {"namespace", c.Namespace}} {
		if part.v == "" || part.v == "." || part.v == ".." || strings.ContainsAny(part.v, "/\x00") || len(part.v) > 253 {
			return nil, refusal.Errorf(refusal.EscapingPath, "record mode: the %s name %q cannot name a file under %s", part.what, part.v, policy.RecordDir)
		}
	}
	return &RecordRequest{
		Name: name,
		Path: filepath.Join(policy.RecordDir, "recordings", c.Namespace, c.Pod, c.Name+".json"),
	}, nil
}

// recordProfile is what a recorded container runs: its decided profile in
// record mode. An unconfined container has no profile to run in record
// mode, and the recorder counts only calls made under a filter: refused.
func recordProfile(p *specs.LinuxSeccomp) (*specs.LinuxSeccomp, error) {
	if p == nil {
		return nil, refusal.Errorf(refusal.Policy, "annotation %s asks to record a container decided unconfined; record it under a profile (RuntimeDefault records everything RuntimeDefault allows and logs the rest)", AnnotationRecord)
	}
	return profile.RecordMode(p), nil
}

// errRecordNeedsWrapper: record mode needs a recorder started before the
// runtime, which only sysgate-runc asks for.
func errRecordNeedsWrapper(id string) error {
	return refusal.Errorf(refusal.Policy, "container %s: record mode (annotation %s) is served by sysgate-runc (the sysgate handler) with `sysgate helper` running; this caller cannot start a recorder, and the container must not run its LOG profile unobserved", id, AnnotationRecord)
}
