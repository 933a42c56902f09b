package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/spec/bundle"
	"github.com/sysgate/sysgate/spec/profile"
	"github.com/sysgate/sysgate/spec/refusal"
)

// Decision is which seccomp profile a container gets, and why.
type Decision struct {
	Container Container    `json:"container"`
	Source    string       `json:"source"`         // the decision table row that decided
	Type      profile.Type `json:"type"`           // what the container runs with
	Ref       string       `json:"ref,omitempty"`  // the reference as written, e.g. localhost/profiles/audit.json
	From      string       `json:"from,omitempty"` // the annotation key or policy key that asked
	// ProfilePath is the file the profile was read from (Localhost, or the
	// node's runtime_default file).
	ProfilePath string `json:"profilePath,omitempty"`
	// Digest is sha256 of the final profile's JSON; empty when unconfined.
	Digest string `json:"digest,omitempty"`
	Audit  bool   `json:"audit,omitempty"` // the policy's audit mode turned denials into LOG
	// Record: the container is recorded (AnnotationRecord); its profile is
	// the record-mode form of the one decided.
	Record *RecordRequest `json:"record,omitempty"`
	// LogDenials: the profile carries SECCOMP_FILTER_FLAG_LOG (policy
	// log_denials), so every denial leaves a kernel record; DenialsNote
	// says why not when the policy asked and the runtime cannot.
	LogDenials  bool   `json:"logDenials,omitempty"`
	DenialsNote string `json:"denialsNote,omitempty"`
	Reason      string `json:"reason"`
	// Profile is the final profile; nil when unconfined.
	Profile *specs.LinuxSeccomp `json:"-"`
}

// decisionRow is one line of the decision table: if Ask finds a request,
// it decides.
type decisionRow struct {
	source string
	why    string
	ask    func(in decisionInput) (request, bool, error)
}

// request is what a row found: a profile reference and who made it.
type request struct {
	ref  profile.Ref
	from string
	nri  *bundle.Record // the NRI plugin's record, kept as it is
}

type decisionInput struct {
	id        string
	spec      *specs.Spec
	container Container
	policy    Policy
	cri       *CRIProfile // nil: the CRI's request is not known (a bundle)
}

// CRIProfile is the seccomp profile the CRI's CreateContainer asked for,
// as NRI passes it to a plugin: the Kubernetes field, after the kubelet.
type CRIProfile struct {
	// Type is RuntimeDefault, Localhost or Unconfined.
	Type profile.Type
	// LocalhostRef is the Localhost profile's absolute path (the kubelet
	// joins its seccomp root and the Pod's localhostProfile).
	LocalhostRef string
}

// ViaNRI marks decisions the NRI plugin made (bundle.Record.Via).
const ViaNRI = "nri"

// decisionTable is sysgate's whole decision, in precedence order. The first
// row that finds a request decides. docs/decision.md explains each row.
var decisionTable = []decisionRow{
	{"nri plugin", "the NRI plugin decided when the CRI created the container and signed its record; the bundle holds that decision", askNRIPlugin},
	{"cri field", "the CRI's own profile type, which NRI passes to the plugin; containerd ignores it for privileged containers, and so does this row", askCRIField},
	{"spec", "the bundle already has linux.seccomp (the CRI rendered the Pod's fields, or the client its own profile); fields win over annotations", askSpec},
	{"sandbox", "a Pod sandbox (pause) container gets RuntimeDefault, as the kubelet asks for every sandbox; Pod annotations are for the Pod's containers", askSandbox},
	{"privileged policy", "a privileged container follows the policy's privileged key (Kubernetes runs it unconfined)", askPrivileged},
	{"container annotation", "the container-level annotation overrides the Pod-level one", askContainerAnnotation},
	{"pod annotation", "the Pod-level annotation applies to every container of the Pod", askPodAnnotation},
	{"cri-o annotation", "CRI-O records the profile type it was asked for", askCRIO},
	{"node default", "nothing asked for a profile: the node default applies, like the kubelet's --seccomp-default", askNodeDefault},
}

// keptRef marks the spec row: the profile in the bundle stays as it is.
const keptRef = "(bundle)"

func askSpec(in decisionInput) (request, bool, error) {
	if in.spec.Linux == nil || in.spec.Linux.Seccomp == nil {
		return request{}, false, nil
	}
	return request{ref: profile.Ref{Type: profile.TypeRendered}, from: "linux.seccomp"}, true, nil
}

// askNRIPlugin finds the plugin's decision in the bundle: a record signed
// under the node's key for this container, for exactly the profile the
// bundle has (containerd wrote what the plugin adjusted).
func askNRIPlugin(in decisionInput) (request, bool, error) {
	r, ok := bundle.VerifiedRecord(in.spec.Annotations, in.policy.RecordKey(), in.id)
	if !ok || r.Via != ViaNRI {
		return request{}, false, nil
	}
	var have *specs.LinuxSeccomp
	if in.spec.Linux != nil {
		have = in.spec.Linux.Seccomp
	}
	if digestOf(have) != r.Digest {
		return request{}, true, refusal.Errorf(refusal.BadInput, "the NRI plugin's record says profile %s but the bundle has %s: something changed linux.seccomp after the plugin; recreate the container", orDefault(r.Digest, "none (unconfined)"), orDefault(digestOf(have), "none"))
	}
	return request{ref: profile.Ref{Type: profile.TypeRendered}, from: "NRI plugin", nri: &r}, true, nil
}

// askCRIField maps the CRI's profile type. Localhost is resolved by
// sysgate beneath profile_root (containerd read the absolute path, any
// path, before the plugin ran); RuntimeDefault keeps containerd's rendering,
// which is for the container's real capabilities; Unconfined is a request
// only when the policy says the kubelet sends it only when asked.
func askCRIField(in decisionInput) (request, bool, error) {
	if in.cri == nil || in.container.Privileged {
		return request{}, false, nil
	}
	from := "CRI field " + string(in.cri.Type)
	switch in.cri.Type {
	case profile.TypeRuntimeDefault:
		return request{ref: profile.Ref{Type: profile.TypeRuntimeDefault}, from: from}, true, nil
	case profile.TypeUnconfined:
		if !in.policy.NRIUnconfinedIsExplicit {
			return request{}, false, nil
		}
		return request{ref: profile.Ref{Type: profile.TypeUnconfined}, from: from}, true, nil
	case profile.TypeLocalhost:
		value := in.cri.LocalhostRef
		rel, err := filepath.Rel(in.policy.ProfileRoot, filepath.Clean(value))
		if !filepath.IsAbs(value) || err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return request{}, true, refusal.Errorf(refusal.EscapingPath, "%s: %q is not a profile under the profile root %s", from, value, in.policy.ProfileRoot)
		}
		return request{ref: profile.Ref{Type: profile.TypeLocalhost, Path: rel}, from: from}, true, nil
	}
	return request{}, true, refusal.Errorf(refusal.BadInput, "CRI profile type %q is not RuntimeDefault, Localhost or Unconfined", in.cri.Type)
}

func askSandbox(in decisionInput) (request, bool, error) {
	return request{ref: profile.Ref{Type: profile.TypeRuntimeDefault}, from: "sandbox container"}, in.container.Sandbox, nil
}

func askPrivileged(in decisionInput) (request, bool, error) {
	if !in.container.Privileged {
		return request{}, false, nil
	}
	ref, err := profile.ParseRef(in.policy.Privileged)
	return request{ref: ref, from: "policy privileged"}, true, err
}

func askContainerAnnotation(in decisionInput) (request, bool, error) {
	if in.container.Name == "" {
		return request{}, false, nil
	}
	return annotationRequest(in.spec, AnnotationContainerSeccompPrefix+in.container.Name)
}

func askPodAnnotation(in decisionInput) (request, bool, error) {
	return annotationRequest(in.spec, AnnotationPodSeccomp)
}

func annotationRequest(s *specs.Spec, key string) (request, bool, error) {
	value, ok := s.Annotations[key]
	if !ok {
		return request{}, false, nil
	}
	ref, err := profile.ParseRef(value)
	if err != nil {
		return request{}, true, fmt.Errorf("annotation %s: %w", key, err)
	}
	return request{ref: ref, from: "annotation " + key}, true, nil
}

// askCRIO maps CRI-O's record; its Localhost value is absolute (the kubelet
// joined it to its root), so it must lie under the profile root.
func askCRIO(in decisionInput) (request, bool, error) {
	value, ok := in.spec.Annotations[AnnotationCRIOSeccompProfilePath]
	if !ok || value == "" {
		return request{}, false, nil
	}
	from := "annotation " + AnnotationCRIOSeccompProfilePath
	switch value {
	case "Unconfined", "unconfined":
		return request{ref: profile.Ref{Type: profile.TypeUnconfined}, from: from}, true, nil
	case "RuntimeDefault", "runtime/default", "docker/default":
		return request{ref: profile.Ref{Type: profile.TypeRuntimeDefault}, from: from}, true, nil
	}
	rel, err := filepath.Rel(in.policy.ProfileRoot, filepath.Clean(value))
	if !filepath.IsAbs(value) || err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return request{}, true, refusal.Errorf(refusal.BadInput, "annotation %s: %q is not Unconfined, RuntimeDefault or a profile under the profile root %s", AnnotationCRIOSeccompProfilePath, value, in.policy.ProfileRoot)
	}
	return request{ref: profile.Ref{Type: profile.TypeLocalhost, Path: rel}, from: from}, true, nil
}

func askNodeDefault(in decisionInput) (request, bool, error) {
	ref, err := profile.ParseRef(in.policy.Default)
	return request{ref: ref, from: "policy default"}, true, err
}

// Decide works out the container's profile from the bundle's spec and the
// node's policy. It reads Localhost and runtime_default files but changes
// nothing; the result still has to pass CheckDecision and compile.
func Decide(id string, s *specs.Spec, policy Policy) (Decision, error) {
	return decide(id, s, policy, nil, false)
}

// decide is Decide; atNRI says the NRI plugin is deciding, with the CRI's
// request (cri, nil when the CRI named no profile).
func decide(id string, s *specs.Spec, policy Policy, cri *CRIProfile, atNRI bool) (Decision, error) {
	c, err := DescribeContainer(id, s, policy.HostBoundingSet)
	if err != nil {
		return Decision{Container: c}, fmt.Errorf("container %s: %w", id, err)
	}
	in := decisionInput{id: id, spec: s, container: c, policy: policy, cri: cri}
	for _, row := range decisionTable {
		req, found, err := row.ask(in)
		if err != nil {
			return Decision{Container: in.container, Source: row.source}, err
		}
		if !found {
			continue
		}
		d := Decision{Container: in.container, Source: row.source, From: req.from, Reason: row.why}
		if !atNRI && policy.NRIRequired && req.nri == nil && !c.Sandbox {
			return d, refusal.Errorf(refusal.Policy, "refusing to create %s: no decision of the sysgate NRI plugin is in its bundle, and policy %s says nri_required = true; the plugin was not running, crashed or timed out while containerd created the container (containerd then creates it unadjusted): start `sysgate nri` and recreate the container", c.describe(), policyName(policy))
		}
		if req.nri != nil {
			d.keepNRI(*req.nri, s)
			return d, nil
		}
		if err := d.materialize(req.ref, s, policy); err != nil {
			return d, err
		}
		return d, nil
	}
	panic("the node default row always decides")
}

// keepNRI takes the plugin's decision as it is: the plugin applied the
// same policy (audit, log_denials) when it decided.
func (d *Decision) keepNRI(r bundle.Record, s *specs.Spec) {
	d.Type, d.Ref, d.Digest, d.Audit = r.Type, r.Ref, r.Digest, r.Audit
	if s.Linux != nil && s.Linux.Seccomp != nil {
		d.Profile = s.Linux.Seccomp
		d.LogDenials = slices.Contains(d.Profile.Flags, specs.LinuxSeccompFlagLog)
	}
}

// materialize turns the reference into the final profile.
func (d *Decision) materialize(ref profile.Ref, s *specs.Spec, policy Policy) error {
	d.Type = ref.Type
	switch ref.Type {
	case profile.TypeRendered:
		d.Ref = keptRef
		d.Profile = s.Linux.Seccomp
		d.Digest = digestOf(d.Profile)
		if d.Digest == runtimeDefaultDigest(s) {
			d.Type = profile.TypeRuntimeDefault
			// This is containerd's built-in RuntimeDefault, rendered for a
			// RuntimeDefault field: the node's runtime_default file replaces
			// it here too, or the file would never reach a Pod that uses the
			// field (containerd#11040).
			if policy.RuntimeDefault != "" {
				d.Ref = profile.Ref{Type: profile.TypeRuntimeDefault}.String()
				if err := d.loadRuntimeDefault(policy, s); err != nil {
					return err
				}
			}
		}
	case profile.TypeRuntimeDefault:
		d.Ref = ref.String()
		if policy.RuntimeDefault != "" {
			if err := d.loadRuntimeDefault(policy, s); err != nil {
				return err
			}
		} else if d.Source == "cri field" && s.Linux != nil && s.Linux.Seccomp != nil {
			// containerd rendered it for the container's own capabilities,
			// which NRI does not pass to the plugin.
			d.Profile = s.Linux.Seccomp
		} else {
			d.Profile = runtimeDefaultFor(s)
		}
	case profile.TypeLocalhost:
		d.Ref = ref.String()
		full, p, err := profile.LoadLocalhost(policy.ProfileRoot, ref.Path, boundingOf(s))
		d.ProfilePath = full
		if err != nil {
			return fmt.Errorf("%s asked for %s: %w", d.From, d.Ref, err)
		}
		d.Profile = p
	case profile.TypeUnconfined:
		d.Ref = ref.String()
	}
	audit, err := wantsAudit(s, d.Container, policy)
	if err != nil {
		return err
	}
	if d.Profile != nil && audit {
		d.Profile, d.Audit = auditProfile(d.Profile), true
	}
	if d.Record, err = wantsRecord(s, d.Container, policy); err != nil {
		return err
	}
	if d.Record != nil {
		if d.Profile, err = recordProfile(d.Profile); err != nil {
			return err
		}
	}
	if d.Profile != nil && policy.LogDenials {
		if ok, why := policy.RuntimeTakesLogFlag(); ok {
			d.Profile, d.LogDenials = withLogFlag(d.Profile), true
		} else {
			d.DenialsNote = why
		}
	}
	if !(ref.Type == profile.TypeRendered && d.Profile == s.Linux.Seccomp) {
		d.Digest = digestOf(d.Profile)
	}
	return nil
}

// loadRuntimeDefault makes the node's runtime_default file the profile,
// rendered for the container when it is in Docker's format with
// conditional rules (moby's default.json, say).
func (d *Decision) loadRuntimeDefault(policy Policy, s *specs.Spec) error {
	t, err := profile.LoadTemplate(policy.RuntimeDefault)
	if err != nil {
		return fmt.Errorf("policy runtime_default (asked by %s): %w", d.From, err)
	}
	d.Profile, d.ProfilePath = t.Render(boundingOf(s), profile.HostNode()), policy.RuntimeDefault
	return nil
}

// boundingOf is the container's bounding capability set, which Docker's
// conditional rules are judged against.
func boundingOf(s *specs.Spec) []string {
	if s.Process == nil || s.Process.Capabilities == nil {
		return nil
	}
	return s.Process.Capabilities.Bounding
}

// runtimeDefaultDigests memoises RuntimeDefault's digest per capability
// set: every create of a rendered profile compares against it, and a
// resident helper sees the same few sets again and again.
var runtimeDefaultDigests struct {
	sync.Mutex
	byCaps map[string]string // capabilities joined by ","
}

// maxMemoisedCapSets bounds the memo; real nodes see a handful of sets.
const maxMemoisedCapSets = 256

func runtimeDefaultDigest(s *specs.Spec) string {
	var caps []string
	if s.Process != nil && s.Process.Capabilities != nil {
		caps = s.Process.Capabilities.Bounding
	}
	key := strings.Join(caps, ",")
	memo := &runtimeDefaultDigests
	memo.Lock()
	d, ok := memo.byCaps[key]
	memo.Unlock()
	if ok {
		return d
	}
	d = digestOf(profile.RuntimeDefault(caps))
	memo.Lock()
	if memo.byCaps == nil {
		memo.byCaps = map[string]string{}
	}
	if len(memo.byCaps) < maxMemoisedCapSets {
		memo.byCaps[key] = d
	}
	memo.Unlock()
	return d
}

// runtimeDefaultFor is containerd's RuntimeDefault for this container's own
// capabilities, identical to what containerd's CRI would render.
func runtimeDefaultFor(s *specs.Spec) *specs.LinuxSeccomp {
	var caps []string
	if s.Process != nil && s.Process.Capabilities != nil {
		caps = s.Process.Capabilities.Bounding
	}
	return profile.RuntimeDefault(caps)
}

// auditProfile makes a learning copy: whatever the default would deny is
// logged and allowed instead; explicit rules stay.
func auditProfile(p *specs.LinuxSeccomp) *specs.LinuxSeccomp {
	out := *p
	switch p.DefaultAction {
	case specs.ActErrno, specs.ActKill, specs.ActKillThread, specs.ActKillProcess, specs.ActTrap:
		out.DefaultAction = specs.ActLog
		out.DefaultErrnoRet = nil
	}
	return &out
}

// CheckDecision applies the policy's unconfined rule.
func CheckDecision(d Decision, policy Policy) (warning string, err error) {
	what := "unconfined"
	switch {
	case d.Type == profile.TypeUnconfined:
	case !d.Audit && d.Record == nil && profile.AllowsEverything(d.Profile):
		// The operator's audit mode turns denials into LOG on purpose; a
		// profile that denies nothing by itself is unconfined in all but
		// name, and the unconfined rule applies to it.
		what = fmt.Sprintf("with a profile that allows every syscall (%s, defaultAction %s and no rule that denies), which is unconfined in all but name", d.Type, d.Profile.DefaultAction)
	default:
		return "", nil
	}
	who := d.Container.describe()
	switch {
	case policy.Unconfined == UnconfinedDeny && policy.Exempt(d.Container.Namespace):
		return fmt.Sprintf("%s runs %s (%s); allowed because namespace %q is exempt", who, what, d.From, d.Container.Namespace), nil
	case policy.Unconfined == UnconfinedDeny:
		return "", refusal.Errorf(refusal.Policy, "refusing to create %s %s: %s asked for it and policy %s says unconfined = \"deny\"; give the container a seccomp profile that denies something (RuntimeDefault or Localhost) or add its namespace to exempt_namespaces", who, what, orDefault(d.From, "the bundle"), policyName(policy))
	case policy.Unconfined == UnconfinedAudit:
		return fmt.Sprintf("%s runs %s (%s)", who, what, d.From), nil
	}
	return "", nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func policyName(p Policy) string {
	if p.Path == "" {
		return "(defaults)"
	}
	return p.Path
}

func (c Container) describe() string {
	switch {
	case c.Namespace != "" && c.Name != "":
		return fmt.Sprintf("container %q of pod %s/%s", c.Name, c.Namespace, c.Pod)
	case c.ID != "":
		return fmt.Sprintf("container %s", c.ID)
	}
	return "the container"
}

// digestOf is the sha256 of the profile's JSON encoding, which is stable
// for equal profiles (encoding/json orders struct fields).
// DigestOf is the digest a decision records for a profile: sha256 of its
// JSON encoding.
func DigestOf(p *specs.LinuxSeccomp) string { return digestOf(p) }

func digestOf(p *specs.LinuxSeccomp) string {
	if p == nil {
		return ""
	}
	data, err := json.Marshal(p)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Applied is what the decision puts into the bundle.
func (d Decision) Applied() bundle.Applied {
	fromBundle := d.Source == "spec"
	return bundle.Applied{
		ContainerID: d.Container.ID,
		Profile:     d.Profile,
		FromBundle:  fromBundle,
		KeepBytes:   fromBundle && !d.Audit && !d.LogDenials && d.ProfilePath == "",
		Record:      bundle.Record{Source: d.Source, Type: d.Type, Ref: d.Ref, Digest: d.Digest, Audit: d.Audit},
	}
}
