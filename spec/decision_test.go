package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/spec/internal/profiletest"
	"github.com/sysgate/sysgate/spec/profile"
)

// The annotation keys as containerd's CRI plugin and CRI-O write them,
// spelled out rather than taken from container.go, so that a typo there
// fails here.
const (
	keyContainerdType      = "io.kubernetes.cri.container-type"
	keyContainerdName      = "io.kubernetes.cri.container-name"
	keyContainerdPod       = "io.kubernetes.cri.sandbox-name"
	keyContainerdNamespace = "io.kubernetes.cri.sandbox-namespace"

	keyCRIOType      = "io.kubernetes.cri-o.ContainerType"
	keyCRIOName      = "io.kubernetes.container.name"
	keyCRIOPod       = "io.kubernetes.pod.name"
	keyCRIONamespace = "io.kubernetes.pod.namespace"
	keyCRIOProfile   = "io.kubernetes.cri-o.SeccompProfilePath"

	keyPod       = "seccomp.security.alpha.kubernetes.io/pod"
	keyContainer = "container.seccomp.security.alpha.kubernetes.io/"
)

type specOption func(*specs.Spec)

// newSpec is an ordinary container's spec as containerd's CRI renders it:
// containerd's default capabilities, masked and read-only /proc paths, no
// seccomp profile, then the options.
func newSpec(opts ...specOption) *specs.Spec {
	caps := append([]string(nil), profile.DefaultCapabilities...)
	s := &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			Args: []string{"sh"},
			Cwd:  "/",
			Capabilities: &specs.LinuxCapabilities{
				Bounding:  caps,
				Effective: caps,
				Permitted: caps,
			},
		},
		Root: &specs.Root{Path: "rootfs"},
		Linux: &specs.Linux{
			MaskedPaths:   []string{"/proc/kcore", "/proc/keys"},
			ReadonlyPaths: []string{"/proc/sys", "/proc/sysrq-trigger"},
		},
		Annotations: map[string]string{},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func annotate(kv ...string) specOption {
	return func(s *specs.Spec) {
		for i := 0; i+1 < len(kv); i += 2 {
			s.Annotations[kv[i]] = kv[i+1]
		}
	}
}

// containerd names a Pod's container the way containerd's CRI does.
func containerd(namespace, pod, name string) specOption {
	return annotate(keyContainerdType, "container", keyContainerdName, name,
		keyContainerdPod, pod, keyContainerdNamespace, namespace)
}

// containerdSandbox is a Pod's pause container under containerd.
func containerdSandbox(namespace, pod string) specOption {
	return annotate(keyContainerdType, "sandbox", keyContainerdPod, pod, keyContainerdNamespace, namespace)
}

// crio names a Pod's container the way CRI-O does.
func crio(namespace, pod, name string) specOption {
	return annotate(keyCRIOType, "container", keyCRIOName, name, keyCRIOPod, pod, keyCRIONamespace, namespace)
}

func withCaps(caps ...string) specOption {
	return func(s *specs.Spec) {
		c := s.Process.Capabilities
		c.Bounding, c.Effective, c.Permitted = caps, caps, caps
	}
}

// privileged is what containerd, CRI-O and podman render for a privileged
// container: every capability, nothing masked or read-only.
func privileged(s *specs.Spec) {
	withCaps(profile.CapabilityNames[:]...)(s)
	s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
}

func withSeccomp(p *specs.LinuxSeccomp) specOption {
	return func(s *specs.Spec) { s.Linux.Seccomp = p }
}

// decisionRoot is a profile root holding profiles/audit.json (the seed's,
// which blocks mkdir), other.json and a broken profile, plus a node
// runtime_default file outside it. It returns the root and that file.
func decisionRoot(t testing.TB) (root, nodeDefault string) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "seccomp")
	profiletest.WriteFile(t, filepath.Join(root, "profiles", "audit.json"), profiletest.AuditJSON)
	profiletest.WriteFile(t, filepath.Join(root, "other.json"), profiletest.OtherJSON)
	profiletest.WriteFile(t, filepath.Join(root, "broken.json"), `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": {}}`)
	nodeDefault = filepath.Join(base, "node-default.json")
	profiletest.WriteFile(t, nodeDefault, profiletest.OtherJSON)
	return root, nodeDefault
}

// decideCase is one row of the table test: a container, a policy, and the
// decision expected (or the error).
type decideCase struct {
	name   string
	spec   *specs.Spec
	policy func(*Policy)

	source      string
	typ         profile.Type
	ref         string
	from        string
	profilePath string
	// profile is the expected final profile; nil for unconfined. For the
	// spec row it must be the very profile in the spec.
	profile *specs.LinuxSeccomp

	// err, when set, are substrings of the expected error.
	err []string
}

func runDecideCases(t *testing.T, root string, cases []decideCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			policy := DefaultPolicy()
			policy.ProfileRoot = root
			if tc.policy != nil {
				tc.policy(&policy)
			}
			var specProfile *specs.LinuxSeccomp
			if tc.spec.Linux != nil {
				specProfile = tc.spec.Linux.Seccomp
			}
			before, _ := json.Marshal(tc.spec)

			d, err := Decide("c1", tc.spec, policy)

			if after, _ := json.Marshal(tc.spec); string(after) != string(before) {
				t.Errorf("Decide changed the spec")
			}
			if d.Source != tc.source {
				t.Errorf("Source = %q, want %q", d.Source, tc.source)
			}
			if tc.err != nil {
				if err == nil {
					t.Fatalf("no error; decision %+v", d)
				}
				for _, w := range tc.err {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q\ndoes not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			if d.Type != tc.typ || d.Ref != tc.ref || d.From != tc.from || d.ProfilePath != tc.profilePath {
				t.Errorf("decision {Type:%q Ref:%q From:%q ProfilePath:%q},\nwant     {Type:%q Ref:%q From:%q ProfilePath:%q}",
					d.Type, d.Ref, d.From, d.ProfilePath, tc.typ, tc.ref, tc.from, tc.profilePath)
			}
			if d.Container.ID != "c1" {
				t.Errorf("Container.ID = %q", d.Container.ID)
			}
			if d.Reason == "" {
				t.Error("no Reason")
			}
			if d.Audit {
				t.Error("Audit set without the policy's audit key")
			}
			switch {
			case tc.profile == nil:
				if d.Profile != nil || d.Digest != "" {
					t.Errorf("unconfined, yet Profile = %+v, Digest = %q", d.Profile, d.Digest)
				}
			case tc.source == "spec" && tc.profilePath == "":
				if d.Profile != specProfile {
					t.Errorf("the spec row did not keep the spec's own profile")
				}
			default:
				if !reflect.DeepEqual(d.Profile, tc.profile) {
					t.Errorf("profile:\n%s\nwant:\n%s", mustJSON(t, d.Profile), mustJSON(t, tc.profile))
				}
			}
			if tc.profile != nil && d.Digest != digestOf(tc.profile) {
				t.Errorf("Digest = %q, want the digest of the expected profile %q", d.Digest, digestOf(tc.profile))
			}
		})
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

const (
	fromSpec          = "linux.seccomp"
	fromSandbox       = "sandbox container"
	fromPrivileged    = "policy privileged"
	fromDefault       = "policy default"
	fromPodAnnotation = "annotation " + keyPod
	fromCRIO          = "annotation " + keyCRIOProfile
)

func fromContainer(name string) string { return "annotation " + keyContainer + name }

func TestDecide(t *testing.T) {
	root, nodeDefault := decisionRoot(t)
	audit := filepath.Join(root, "profiles", "audit.json")
	rdDefault := profile.RuntimeDefault(profile.DefaultCapabilities)
	rdAll := profile.RuntimeDefault(profile.CapabilityNames[:])
	withSysAdmin := append(append([]string(nil), profile.DefaultCapabilities...), "CAP_SYS_ADMIN")
	withoutBPF := make([]string, 0, len(profile.CapabilityNames))
	for _, c := range profile.CapabilityNames {
		if c != "CAP_BPF" {
			withoutBPF = append(withoutBPF, c)
		}
	}
	mixed := annotate(keyContainer+"app", "runtime/default", keyContainer+"sidecar", "localhost/profiles/audit.json")
	setPrivileged := func(v string) func(*Policy) { return func(p *Policy) { p.Privileged = v } }
	setDefault := func(v string) func(*Policy) { return func(p *Policy) { p.Default = v } }
	setRuntimeDefault := func(p *Policy) { p.RuntimeDefault = nodeDefault }

	runDecideCases(t, root, []decideCase{
		// 1. The spec row: a profile in the bundle stays.
		{name: "spec: containerd's RuntimeDefault for the container's caps",
			spec:   newSpec(containerd("default", "secure-app", "app"), withSeccomp(profile.RuntimeDefault(profile.DefaultCapabilities))),
			source: "spec", typ: profile.TypeRuntimeDefault, ref: "(bundle)", from: fromSpec, profile: rdDefault},
		{name: "spec: RuntimeDefault for other caps than the container's is Rendered",
			spec:   newSpec(containerd("default", "p", "app"), withCaps(withSysAdmin...), withSeccomp(profile.RuntimeDefault(profile.DefaultCapabilities))),
			source: "spec", typ: profile.TypeRendered, ref: "(bundle)", from: fromSpec, profile: rdDefault},
		{name: "spec: a Localhost profile rendered by the CRI is Rendered",
			spec:   newSpec(containerd("default", "p", "app"), withSeccomp(profiletest.AuditWant())),
			source: "spec", typ: profile.TypeRendered, ref: "(bundle)", from: fromSpec, profile: profiletest.AuditWant()},
		{name: "spec: no capabilities at all",
			spec:   newSpec(func(s *specs.Spec) { s.Process = nil }, withSeccomp(profile.RuntimeDefault(nil))),
			source: "spec", typ: profile.TypeRuntimeDefault, ref: "(bundle)", from: fromSpec, profile: profile.RuntimeDefault(nil)},
		{name: "spec: fields win over the Pod annotation",
			spec:   newSpec(containerd("default", "p", "app"), annotate(keyPod, "unconfined"), withSeccomp(profiletest.AuditWant())),
			source: "spec", typ: profile.TypeRendered, ref: "(bundle)", from: fromSpec, profile: profiletest.AuditWant()},
		{name: "spec: kept for a privileged container too",
			spec:   newSpec(privileged, withSeccomp(profile.RuntimeDefault(profile.CapabilityNames[:]))),
			source: "spec", typ: profile.TypeRuntimeDefault, ref: "(bundle)", from: fromSpec, profile: rdAll},
		{name: "spec: containerd's RuntimeDefault gives way to the node's runtime_default file",
			spec:   newSpec(containerd("default", "p", "app"), withSeccomp(profile.RuntimeDefault(profile.DefaultCapabilities))),
			policy: setRuntimeDefault,
			source: "spec", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromSpec, profilePath: nodeDefault, profile: profiletest.OtherWant()},
		{name: "spec: a Rendered profile stays despite runtime_default",
			spec:   newSpec(containerd("default", "p", "app"), withSeccomp(profiletest.AuditWant())),
			policy: setRuntimeDefault,
			source: "spec", typ: profile.TypeRendered, ref: "(bundle)", from: fromSpec, profile: profiletest.AuditWant()},

		// 2. Sandbox containers get RuntimeDefault.
		{name: "sandbox: containerd pause container",
			spec:   newSpec(containerdSandbox("default", "p")),
			source: "sandbox", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromSandbox, profile: rdDefault},
		{name: "sandbox: a Pod annotation localhost/... is not for the sandbox",
			spec:   newSpec(containerdSandbox("default", "p"), annotate(keyPod, "localhost/profiles/audit.json")),
			source: "sandbox", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromSandbox, profile: rdDefault},
		{name: "sandbox: nor is a Pod annotation unconfined",
			spec:   newSpec(containerdSandbox("default", "p"), annotate(keyPod, "unconfined")),
			source: "sandbox", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromSandbox, profile: rdDefault},
		{name: "sandbox: CRI-O pause container",
			spec:   newSpec(annotate(keyCRIOType, "sandbox", keyCRIOPod, "p", keyCRIONamespace, "default"), annotate(keyCRIOProfile, "Unconfined")),
			source: "sandbox", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromSandbox, profile: rdDefault},
		{name: "sandbox: the node's runtime_default file",
			spec:   newSpec(containerdSandbox("default", "p")),
			policy: setRuntimeDefault,
			source: "sandbox", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromSandbox, profilePath: nodeDefault, profile: profiletest.OtherWant()},

		// 3. Privileged containers follow policy privileged.
		{name: "privileged: unconfined by default",
			spec:   newSpec(containerd("kube-system", "csi", "driver"), privileged),
			source: "privileged policy", typ: profile.TypeUnconfined, ref: "unconfined", from: fromPrivileged},
		{name: "privileged: runtime/default for all capabilities",
			spec:   newSpec(containerd("kube-system", "csi", "driver"), privileged),
			policy: setPrivileged("runtime/default"),
			source: "privileged policy", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromPrivileged, profile: rdAll},
		{name: "privileged: localhost/...",
			spec:   newSpec(containerd("kube-system", "csi", "driver"), privileged),
			policy: setPrivileged("localhost/profiles/audit.json"),
			source: "privileged policy", typ: profile.TypeLocalhost, ref: "localhost/profiles/audit.json", from: fromPrivileged, profilePath: audit, profile: profiletest.AuditWant()},
		{name: "privileged: annotations do not apply",
			spec:   newSpec(containerd("kube-system", "csi", "driver"), privileged, annotate(keyContainer+"driver", "localhost/profiles/audit.json", keyPod, "runtime/default")),
			source: "privileged policy", typ: profile.TypeUnconfined, ref: "unconfined", from: fromPrivileged},
		{name: "privileged: missing policy profile",
			spec:   newSpec(privileged),
			policy: setPrivileged("localhost/priv.json"),
			source: "privileged policy",
			err:    []string{"policy privileged asked for localhost/priv.json", filepath.Join(root, "priv.json") + " does not exist"}},
		{name: "not privileged: all capabilities but masked paths",
			spec:   newSpec(withCaps(profile.CapabilityNames[:]...), func(s *specs.Spec) { s.Linux.ReadonlyPaths = nil }),
			source: "node default", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromDefault, profile: rdAll},
		{name: "not privileged: all capabilities but read-only paths",
			spec:   newSpec(withCaps(profile.CapabilityNames[:]...), func(s *specs.Spec) { s.Linux.MaskedPaths = nil }),
			source: "node default", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromDefault, profile: rdAll},
		{name: "not privileged: one capability short",
			spec:   newSpec(withCaps(withoutBPF...), func(s *specs.Spec) { s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil }),
			source: "node default", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromDefault, profile: profile.RuntimeDefault(withoutBPF)},

		// 4. The container-level annotation.
		{name: "container annotation: mixed-app app gets RuntimeDefault",
			spec:   newSpec(containerd("default", "mixed-app", "app"), mixed),
			source: "container annotation", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromContainer("app"), profile: rdDefault},
		{name: "container annotation: mixed-app sidecar gets Localhost profiles/audit.json",
			spec:   newSpec(containerd("default", "mixed-app", "sidecar"), mixed),
			source: "container annotation", typ: profile.TypeLocalhost, ref: "localhost/profiles/audit.json", from: fromContainer("sidecar"), profilePath: audit, profile: profiletest.AuditWant()},
		{name: "container annotation overrides the Pod annotation",
			spec:   newSpec(containerd("default", "mixed-app", "app"), mixed, annotate(keyPod, "localhost/other.json")),
			source: "container annotation", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromContainer("app"), profile: rdDefault},
		{name: "container annotation unconfined overrides the Pod annotation",
			spec:   newSpec(containerd("default", "p", "app"), annotate(keyContainer+"app", "unconfined", keyPod, "runtime/default")),
			source: "container annotation", typ: profile.TypeUnconfined, ref: "unconfined", from: fromContainer("app")},
		{name: "container annotation docker/default",
			spec:   newSpec(containerd("default", "p", "app"), annotate(keyContainer+"app", "docker/default")),
			source: "container annotation", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromContainer("app"), profile: rdDefault},
		{name: "container annotation with a CRI-O container name",
			spec:   newSpec(crio("default", "p", "app"), annotate(keyContainer+"app", "localhost/other.json")),
			source: "container annotation", typ: profile.TypeLocalhost, ref: "localhost/other.json", from: fromContainer("app"), profilePath: filepath.Join(root, "other.json"), profile: profiletest.OtherWant()},
		{name: "container annotation for another container is ignored",
			spec:   newSpec(containerd("default", "p", "app"), annotate(keyContainer+"sidecar", "unconfined")),
			source: "node default", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromDefault, profile: rdDefault},
		{name: "container annotation for another container: the Pod annotation applies",
			spec:   newSpec(containerd("default", "p", "app"), annotate(keyContainer+"sidecar", "unconfined", keyPod, "localhost/profiles/audit.json")),
			source: "pod annotation", typ: profile.TypeLocalhost, ref: "localhost/profiles/audit.json", from: fromPodAnnotation, profilePath: audit, profile: profiletest.AuditWant()},
		{name: "container annotation with an empty name does not match a nameless container",
			spec:   newSpec(annotate(keyContainer, "unconfined")),
			source: "node default", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromDefault, profile: rdDefault},

		// 5. The Pod-level annotation.
		{name: "pod annotation: secure-app runtime/default",
			spec:   newSpec(containerd("default", "secure-app", "app"), annotate(keyPod, "runtime/default")),
			source: "pod annotation", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromPodAnnotation, profile: rdDefault},
		{name: "pod annotation: custom-seccomp Localhost",
			spec:   newSpec(containerd("default", "custom-seccomp", "app"), annotate(keyPod, "localhost/profiles/audit.json")),
			source: "pod annotation", typ: profile.TypeLocalhost, ref: "localhost/profiles/audit.json", from: fromPodAnnotation, profilePath: audit, profile: profiletest.AuditWant()},
		{name: "pod annotation: unconfined",
			spec:   newSpec(containerd("default", "opt-out", "app"), annotate(keyPod, "unconfined")),
			source: "pod annotation", typ: profile.TypeUnconfined, ref: "unconfined", from: fromPodAnnotation},
		{name: "pod annotation: runtime/default uses the node's runtime_default file",
			spec:   newSpec(containerd("default", "p", "app"), annotate(keyPod, "runtime/default")),
			policy: setRuntimeDefault,
			source: "pod annotation", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromPodAnnotation, profilePath: nodeDefault, profile: profiletest.OtherWant()},

		// 6. CRI-O's record of the profile type.
		{name: "cri-o: Unconfined",
			spec:   newSpec(crio("default", "p", "app"), annotate(keyCRIOProfile, "Unconfined")),
			source: "cri-o annotation", typ: profile.TypeUnconfined, ref: "unconfined", from: fromCRIO},
		{name: "cri-o: RuntimeDefault",
			spec:   newSpec(crio("default", "p", "app"), annotate(keyCRIOProfile, "RuntimeDefault")),
			source: "cri-o annotation", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromCRIO, profile: rdDefault},
		{name: "cri-o: absolute path under the root",
			spec:   newSpec(crio("default", "p", "app"), annotate(keyCRIOProfile, audit)),
			source: "cri-o annotation", typ: profile.TypeLocalhost, ref: "localhost/profiles/audit.json", from: fromCRIO, profilePath: audit, profile: profiletest.AuditWant()},
		{name: "cri-o: empty value is no request",
			spec:   newSpec(crio("default", "p", "app"), annotate(keyCRIOProfile, "")),
			source: "node default", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromDefault, profile: rdDefault},
		{name: "cri-o: path outside the root",
			spec:   newSpec(crio("default", "p", "app"), annotate(keyCRIOProfile, "/etc/passwd")),
			source: "cri-o annotation",
			err:    []string{"annotation " + keyCRIOProfile + `: "/etc/passwd" is not Unconfined, RuntimeDefault or a profile under the profile root ` + root}},
		{name: "cri-o: traversal out of the root",
			spec:   newSpec(crio("default", "p", "app"), annotate(keyCRIOProfile, root+"/../node-default.json")),
			source: "cri-o annotation",
			err:    []string{"annotation " + keyCRIOProfile, root + `/../node-default.json" is not`}},
		{name: "cri-o: sibling directory sharing the root's prefix",
			spec:   newSpec(crio("default", "p", "app"), annotate(keyCRIOProfile, root+"-evil/x.json")),
			source: "cri-o annotation",
			err:    []string{"annotation " + keyCRIOProfile, root + `-evil/x.json" is not`}},
		{name: "cri-o: relative path",
			spec:   newSpec(crio("default", "p", "app"), annotate(keyCRIOProfile, "profiles/audit.json")),
			source: "cri-o annotation",
			err:    []string{"annotation " + keyCRIOProfile, `"profiles/audit.json" is not`}},
		{name: "cri-o: missing file under the root",
			spec:   newSpec(crio("default", "p", "app"), annotate(keyCRIOProfile, filepath.Join(root, "gone.json"))),
			source: "cri-o annotation",
			err:    []string{fromCRIO + " asked for localhost/gone.json", filepath.Join(root, "gone.json") + " does not exist"}},

		// 7. The node default.
		{name: "node default: runtime/default for a plain runc user",
			spec:   newSpec(),
			source: "node default", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromDefault, profile: rdDefault},
		{name: "node default: a Pod container that asks for nothing",
			spec:   newSpec(containerd("default", "plain", "app")),
			source: "node default", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromDefault, profile: rdDefault},
		{name: "node default: docker/default",
			spec:   newSpec(),
			policy: setDefault("docker/default"),
			source: "node default", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromDefault, profile: rdDefault},
		{name: "node default: unconfined",
			spec:   newSpec(),
			policy: setDefault("unconfined"),
			source: "node default", typ: profile.TypeUnconfined, ref: "unconfined", from: fromDefault},
		{name: "node default: localhost/...",
			spec:   newSpec(),
			policy: setDefault("localhost/profiles/audit.json"),
			source: "node default", typ: profile.TypeLocalhost, ref: "localhost/profiles/audit.json", from: fromDefault, profilePath: audit, profile: profiletest.AuditWant()},
		{name: "node default: the node's runtime_default file replaces containerd's profile",
			spec:   newSpec(),
			policy: setRuntimeDefault,
			source: "node default", typ: profile.TypeRuntimeDefault, ref: "runtime/default", from: fromDefault, profilePath: nodeDefault, profile: profiletest.OtherWant()},
		{name: "node default: missing runtime_default file",
			spec:   newSpec(),
			policy: func(p *Policy) { p.RuntimeDefault = filepath.Join(root, "nope.json") },
			source: "node default",
			err:    []string{"policy runtime_default (asked by policy default)", filepath.Join(root, "nope.json") + ": cannot open"}},
		{name: "node default: missing localhost file",
			spec:   newSpec(),
			policy: setDefault("localhost/absent.json"),
			source: "node default",
			err:    []string{"policy default asked for localhost/absent.json", filepath.Join(root, "absent.json") + " does not exist"}},

		// Unknown annotation values name the annotation.
		{name: "bad value: container annotation RuntimeDefault",
			spec:   newSpec(containerd("default", "p", "app"), annotate(keyContainer+"app", "RuntimeDefault")),
			source: "container annotation",
			err:    []string{"annotation " + keyContainer + `app: "RuntimeDefault" is not a seccomp profile`}},
		{name: "bad value: pod annotation localhost//etc/passwd",
			spec:   newSpec(containerd("default", "p", "app"), annotate(keyPod, "localhost//etc/passwd")),
			source: "pod annotation",
			err:    []string{"annotation " + keyPod + `: localhost profile path "/etc/passwd" must be relative`}},
		{name: "bad value: pod annotation localhost/../x",
			spec:   newSpec(containerd("default", "p", "app"), annotate(keyPod, "localhost/../x")),
			source: "pod annotation",
			err:    []string{"annotation " + keyPod + `: localhost profile path "../x" must not contain ".."`}},
		{name: "bad value: pod annotation empty",
			spec:   newSpec(annotate(keyPod, "")),
			source: "pod annotation",
			err:    []string{"annotation " + keyPod + `: "" is not a seccomp profile`}},
		{name: "bad value: pod annotation random text",
			spec:   newSpec(annotate(keyPod, "strict please")),
			source: "pod annotation",
			err:    []string{"annotation " + keyPod + `: "strict please" is not a seccomp profile`}},

		// A missing or invalid Localhost file names the full path and who asked.
		{name: "missing Localhost file from the Pod annotation",
			spec:   newSpec(containerd("default", "p", "app"), annotate(keyPod, "localhost/profiles/missing.json")),
			source: "pod annotation",
			err: []string{"annotation " + keyPod + " asked for localhost/profiles/missing.json",
				filepath.Join(root, "profiles", "missing.json") + " does not exist", "install the profile"}},
		{name: "missing Localhost file from the container annotation",
			spec:   newSpec(containerd("default", "p", "app"), annotate(keyContainer+"app", "localhost/missing.json")),
			source: "container annotation",
			err:    []string{"annotation " + keyContainer + "app asked for localhost/missing.json", filepath.Join(root, "missing.json") + " does not exist"}},
		{name: "invalid Localhost file",
			spec:   newSpec(annotate(keyPod, "localhost/broken.json")),
			source: "pod annotation",
			err:    []string{"annotation " + keyPod + " asked for localhost/broken.json", filepath.Join(root, "broken.json") + ": syscalls"}},
	})
}

func TestDecideMissingLocalhostRecordsPath(t *testing.T) {
	root, _ := decisionRoot(t)
	policy := DefaultPolicy()
	policy.ProfileRoot = root
	d, err := Decide("c1", newSpec(annotate(keyPod, "localhost/a/b.json")), policy)
	if err == nil {
		t.Fatal("no error")
	}
	if want := filepath.Join(root, "a", "b.json"); d.ProfilePath != want || d.Ref != "localhost/a/b.json" || d.From != fromPodAnnotation {
		t.Errorf("decision with the error: %+v, want ProfilePath %s", d, want)
	}
}

// TestDecidePrecedence puts every combination of the rows' triggers in one
// spec: the first row in the table's order decides.
func TestDecidePrecedence(t *testing.T) {
	root, _ := decisionRoot(t)
	rows := []struct {
		source  string
		trigger specOption
	}{
		{"spec", withSeccomp(profiletest.AuditWant())},
		{"sandbox", annotate(keyContainerdType, "sandbox")},
		{"privileged policy", privileged},
		{"container annotation", annotate(keyContainer+"app", "localhost/other.json")},
		{"pod annotation", annotate(keyPod, "unconfined")},
		{"cri-o annotation", annotate(keyCRIOProfile, "RuntimeDefault")},
	}
	policy := DefaultPolicy()
	policy.ProfileRoot = root
	for mask := 0; mask < 1<<len(rows); mask++ {
		var names []string
		opts := []specOption{annotate(keyContainerdName, "app", keyContainerdPod, "p", keyContainerdNamespace, "default")}
		want := "node default"
		for i := len(rows) - 1; i >= 0; i-- {
			if mask&(1<<i) != 0 {
				names = append([]string{rows[i].source}, names...)
				opts = append(opts, rows[i].trigger)
				want = rows[i].source
			}
		}
		name := strings.Join(names, " + ")
		if name == "" {
			name = "nothing"
		}
		t.Run(name, func(t *testing.T) {
			d, err := Decide("c1", newSpec(opts...), policy)
			if err != nil {
				t.Fatal(err)
			}
			if d.Source != want {
				t.Errorf("Source = %q, want %q", d.Source, want)
			}
		})
	}
}

func TestDescribeContainer(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec *specs.Spec
		want Container
	}{
		{"containerd container", newSpec(containerd("shop", "web-1", "nginx")),
			Container{ID: "id", Namespace: "shop", Pod: "web-1", Name: "nginx"}},
		{"containerd sandbox", newSpec(containerdSandbox("shop", "web-1")),
			Container{ID: "id", Namespace: "shop", Pod: "web-1", Sandbox: true}},
		{"CRI-O container", newSpec(crio("shop", "web-1", "nginx")),
			Container{ID: "id", Namespace: "shop", Pod: "web-1", Name: "nginx"}},
		{"CRI-O sandbox", newSpec(annotate(keyCRIOType, "sandbox", keyCRIOPod, "web-1", keyCRIONamespace, "shop")),
			Container{ID: "id", Namespace: "shop", Pod: "web-1", Sandbox: true}},
		{"privileged", newSpec(containerd("kube-system", "csi", "driver"), privileged),
			Container{ID: "id", Namespace: "kube-system", Pod: "csi", Name: "driver", Privileged: true}},
		{"plain runc", newSpec(), Container{ID: "id"}},
		{"no process", newSpec(func(s *specs.Spec) { s.Process = nil }), Container{ID: "id"}},
		// Kubernetes names without an engine's own keys are not an identity.
		{"Kubernetes names alone", newSpec(annotate(keyCRIONamespace, "kube-system", keyCRIOPod, "p")), Container{ID: "id"}},
		{"podman with a user's claim of containerd's keys", newSpec(containerdSandbox("kube-system", "p"), annotate("io.podman.annotations.init", "FALSE")),
			Container{ID: "id"}},
		{"containerd with matching Kubernetes names", newSpec(containerd("shop", "web-1", "nginx"), annotate(keyCRIONamespace, "shop")),
			Container{ID: "id", Namespace: "shop", Pod: "web-1", Name: "nginx"}},
		{"no linux section, all capabilities", newSpec(withCaps(profile.CapabilityNames[:]...), func(s *specs.Spec) { s.Linux = nil }),
			Container{ID: "id", Privileged: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := DescribeContainer("id", tc.spec, 0); got != tc.want || err != nil {
				t.Errorf("got %+v (%v), want %+v", got, err, tc.want)
			}
		})
	}
}

// A Pod or a command line claiming another namespace, or to be a sandbox,
// through the other engine's keys is refused (issue 13, item 4).
func TestDescribeContainerRefusesCopiedIdentity(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec *specs.Spec
		want string
	}{
		{"CRI-O bundle with containerd's namespace", newSpec(crio("shop", "web-1", "nginx"), annotate(keyContainerdNamespace, "kube-system")),
			"both containerd's identity annotations (io.kubernetes.cri.sandbox-namespace) and CRI-O's (io.kubernetes.cri-o.ContainerType)"},
		{"containerd bundle claiming CRI-O's sandbox type", newSpec(containerd("shop", "web-1", "nginx"), annotate(keyCRIOType, "sandbox")),
			"and CRI-O's (io.kubernetes.cri-o.ContainerType)"},
		{"containerd bundle with another namespace by Kubernetes name", newSpec(containerd("shop", "web-1", "nginx"), annotate(keyCRIONamespace, "kube-system")),
			`annotation io.kubernetes.pod.namespace is "kube-system" but containerd's identity says "shop"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DescribeContainer("id", tc.spec, 0)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			policy := DefaultPolicy()
			policy.Unconfined, policy.ExemptNamespaces = UnconfinedDeny, []string{"kube-system"}
			if _, err := Decide("id", tc.spec, policy); err == nil {
				t.Error("Decide accepted the bundle")
			}
		})
	}
}

func TestDecideAudit(t *testing.T) {
	root, _ := decisionRoot(t)
	profiletest.WriteFile(t, filepath.Join(root, "errno38.json"), `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],"syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"},{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}`)
	profiletest.WriteFile(t, filepath.Join(root, "kill.json"), `{"defaultAction":"SCMP_ACT_KILL_PROCESS","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}`)
	policy := DefaultPolicy()
	policy.ProfileRoot = root
	policy.Audit = true

	t.Run("RuntimeDefault: ERRNO default becomes LOG, explicit rules stay", func(t *testing.T) {
		d, err := Decide("c1", newSpec(), policy)
		if err != nil {
			t.Fatal(err)
		}
		rd := profile.RuntimeDefault(profile.DefaultCapabilities)
		if rd.DefaultAction != specs.ActErrno {
			t.Fatalf("containerd's default action is %s; this test assumes ERRNO", rd.DefaultAction)
		}
		if !d.Audit || d.Profile.DefaultAction != specs.ActLog || d.Profile.DefaultErrnoRet != nil {
			t.Errorf("Audit %v, defaultAction %s, defaultErrnoRet %v; want true, LOG, nil", d.Audit, d.Profile.DefaultAction, d.Profile.DefaultErrnoRet)
		}
		if !reflect.DeepEqual(d.Profile.Syscalls, rd.Syscalls) || !reflect.DeepEqual(d.Profile.Architectures, rd.Architectures) {
			t.Error("audit mode changed the rules or architectures")
		}
		// containerd's clone3 rule returns ENOSYS explicitly; it stays.
		found := false
		for _, r := range d.Profile.Syscalls {
			if slicesContains(r.Names, "clone3") && r.Action == specs.ActErrno && r.ErrnoRet != nil && *r.ErrnoRet == 38 {
				found = true
			}
		}
		if !found {
			t.Error("the explicit clone3 ERRNO(ENOSYS) rule is gone")
		}
		if d.Digest != digestOf(d.Profile) || d.Digest == digestOf(rd) {
			t.Errorf("Digest %q is not that of the audited profile", d.Digest)
		}
	})
	t.Run("Localhost: defaultErrnoRet dropped, ERRNO rule kept", func(t *testing.T) {
		d, err := Decide("c1", newSpec(annotate(keyPod, "localhost/errno38.json")), policy)
		if err != nil {
			t.Fatal(err)
		}
		want := &specs.LinuxSeccomp{
			DefaultAction: specs.ActLog,
			Architectures: profiletest.X86Arches,
			Syscalls: []specs.LinuxSyscall{
				{Names: []string{"read", "write"}, Action: specs.ActAllow},
				{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: profiletest.UintPtr(1)},
			},
		}
		if !d.Audit || !reflect.DeepEqual(d.Profile, want) {
			t.Errorf("Audit %v, profile %s\nwant %s", d.Audit, mustJSON(t, d.Profile), mustJSON(t, want))
		}
		if _, err := d.Verify(nil); err != nil {
			t.Errorf("the audited profile does not verify: %v", err)
		}
	})
	t.Run("KILL_PROCESS default becomes LOG", func(t *testing.T) {
		d, err := Decide("c1", newSpec(annotate(keyPod, "localhost/kill.json")), policy)
		if err != nil {
			t.Fatal(err)
		}
		if d.Profile.DefaultAction != specs.ActLog || len(d.Profile.Syscalls) != 1 {
			t.Errorf("profile %s", mustJSON(t, d.Profile))
		}
	})
	t.Run("ALLOW default stays", func(t *testing.T) {
		d, err := Decide("c1", newSpec(annotate(keyPod, "localhost/profiles/audit.json")), policy)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(d.Profile, profiletest.AuditWant()) {
			t.Errorf("profile %s", mustJSON(t, d.Profile))
		}
	})
	t.Run("spec row: audited copy, the spec untouched", func(t *testing.T) {
		s := newSpec(withSeccomp(profile.RuntimeDefault(profile.DefaultCapabilities)))
		d, err := Decide("c1", s, policy)
		if err != nil {
			t.Fatal(err)
		}
		if d.Profile.DefaultAction != specs.ActLog || s.Linux.Seccomp.DefaultAction != specs.ActErrno {
			t.Errorf("decision %s, spec %s", d.Profile.DefaultAction, s.Linux.Seccomp.DefaultAction)
		}
	})
	t.Run("unconfined stays unconfined", func(t *testing.T) {
		d, err := Decide("c1", newSpec(annotate(keyPod, "unconfined")), policy)
		if err != nil {
			t.Fatal(err)
		}
		if d.Profile != nil || d.Audit || d.Digest != "" {
			t.Errorf("decision %+v", d)
		}
	})
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestDecisionDigest(t *testing.T) {
	root, _ := decisionRoot(t)
	policy := DefaultPolicy()
	policy.ProfileRoot = root
	decide := func(s *specs.Spec) Decision {
		t.Helper()
		d, err := Decide("c", s, policy)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	nodeDefault := decide(newSpec())
	sum := sha256.Sum256([]byte(mustJSON(t, profile.RuntimeDefault(profile.DefaultCapabilities))))
	if want := "sha256:" + hex.EncodeToString(sum[:]); nodeDefault.Digest != want {
		t.Errorf("Digest = %q, want sha256 of the profile's JSON %q", nodeDefault.Digest, want)
	}
	for name, d := range map[string]Decision{
		"again":                      decide(newSpec()),
		"another container":          decide(newSpec(containerd("other", "pod", "name"))),
		"pod annotation":             decide(newSpec(annotate(keyPod, "runtime/default"))),
		"rendered by the CRI":        decide(newSpec(withSeccomp(profile.RuntimeDefault(profile.DefaultCapabilities)))),
		"capabilities in reverse":    decide(newSpec(withCaps(reversed(profile.DefaultCapabilities)...))),
		"same capabilities repeated": decide(newSpec(withCaps(append(profile.DefaultCapabilities[:1:1], profile.DefaultCapabilities...)...))),
	} {
		if d.Digest != nodeDefault.Digest {
			t.Errorf("%s: Digest %q, want %q for an equal profile", name, d.Digest, nodeDefault.Digest)
		}
	}
	localhost := decide(newSpec(annotate(keyPod, "localhost/profiles/audit.json")))
	rendered := decide(newSpec(withSeccomp(profiletest.AuditWant())))
	if localhost.Digest != rendered.Digest || localhost.Digest == nodeDefault.Digest {
		t.Errorf("Localhost %q and the same profile rendered %q must be equal and differ from RuntimeDefault %q",
			localhost.Digest, rendered.Digest, nodeDefault.Digest)
	}
	if d := decide(newSpec(withCaps(append(profile.DefaultCapabilities[:len(profile.DefaultCapabilities):len(profile.DefaultCapabilities)], "CAP_SYS_ADMIN")...))); d.Digest == nodeDefault.Digest {
		t.Error("RuntimeDefault with CAP_SYS_ADMIN has the same digest as without")
	}
	if d := decide(newSpec(annotate(keyPod, "unconfined"))); d.Digest != "" {
		t.Errorf("unconfined Digest = %q, want empty", d.Digest)
	}
	if digestOf(nil) != "" {
		t.Error("digestOf(nil) is not empty")
	}
}

func reversed(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func TestCheckDecision(t *testing.T) {
	unconfined := func(ns string) Decision {
		return Decision{
			Container: Container{ID: "c1", Namespace: ns, Pod: "web-1", Name: "nginx"},
			Source:    "pod annotation", Type: profile.TypeUnconfined, Ref: "unconfined", From: fromPodAnnotation,
		}
	}
	confined := func(typ profile.Type) Decision {
		return Decision{Container: Container{ID: "c1", Namespace: "shop", Name: "nginx"}, Type: typ, Profile: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno}}
	}
	allowAll := func(typ profile.Type, def specs.LinuxSeccompAction, ruleActions ...specs.LinuxSeccompAction) Decision {
		d := Decision{Container: Container{ID: "c1", Namespace: "shop", Pod: "web-1", Name: "nginx"}, Type: typ,
			Profile: &specs.LinuxSeccomp{DefaultAction: def}}
		if typ == profile.TypeLocalhost {
			d.From = fromPodAnnotation
		}
		for _, a := range ruleActions {
			d.Profile.Syscalls = append(d.Profile.Syscalls, specs.LinuxSyscall{Names: []string{"getpid"}, Action: a})
		}
		return d
	}
	policy := func(mode string, exempt ...string) Policy {
		p := DefaultPolicy()
		p.Unconfined, p.ExemptNamespaces, p.Path = mode, exempt, "/etc/sysgate/config.toml"
		return p
	}
	for _, tc := range []struct {
		name     string
		d        Decision
		policy   Policy
		warning  []string // substrings; nil: no warning
		errWants []string // substrings; nil: no error
	}{
		{name: "deny refuses", d: unconfined("shop"), policy: policy("deny", "kube-system"),
			errWants: []string{`refusing to create container "nginx" of pod shop/web-1 unconfined`, fromPodAnnotation,
				`policy /etc/sysgate/config.toml says unconfined = "deny"`, "give the container a seccomp profile", "add its namespace to exempt_namespaces"}},
		{name: "deny names the defaults when there is no policy file", d: unconfined("shop"),
			policy:   func() Policy { p := policy("deny"); p.Path = ""; return p }(),
			errWants: []string{"policy (defaults)"}},
		{name: "deny without a namespace", d: Decision{Container: Container{ID: "abc123"}, Type: profile.TypeUnconfined, From: fromDefault}, policy: policy("deny", ""),
			errWants: []string{"refusing to create container abc123 unconfined: policy default asked for it"}},
		{name: "deny, exempt namespace", d: unconfined("kube-system"), policy: policy("deny", "kube-system"),
			warning: []string{`container "nginx" of pod kube-system/web-1 runs unconfined`, fromPodAnnotation, `namespace "kube-system" is exempt`}},
		{name: "audit warns", d: unconfined("shop"), policy: policy("audit"),
			warning: []string{`container "nginx" of pod shop/web-1 runs unconfined (` + fromPodAnnotation + ")"}},
		{name: "allow says nothing", d: unconfined("shop"), policy: policy("allow")},
		{name: "deny: RuntimeDefault passes", d: confined(profile.TypeRuntimeDefault), policy: policy("deny")},
		{name: "deny: Localhost passes", d: confined(profile.TypeLocalhost), policy: policy("deny")},
		{name: "deny: Rendered passes", d: confined(profile.TypeRendered), policy: policy("deny")},
		{name: "audit: RuntimeDefault says nothing", d: confined(profile.TypeRuntimeDefault), policy: policy("audit")},
		{name: "deny: an allow-all Localhost profile is unconfined in all but name", d: allowAll(profile.TypeLocalhost, specs.ActAllow, specs.ActLog), policy: policy("deny"),
			errWants: []string{`refusing to create container "nginx" of pod shop/web-1 with a profile that allows every syscall`, "defaultAction SCMP_ACT_ALLOW", "unconfined in all but name", `unconfined = "deny"`}},
		{name: "deny: an in-spec LOG profile is too", d: allowAll(profile.TypeRendered, specs.ActLog), policy: policy("deny"),
			errWants: []string{"allows every syscall", "the bundle asked for it"}},
		{name: "deny: allow-all in an exempt namespace warns", d: func() Decision {
			d := allowAll(profile.TypeLocalhost, specs.ActAllow)
			d.Container.Namespace = "kube-system"
			return d
		}(),
			policy: policy("deny", "kube-system"), warning: []string{"allows every syscall", `namespace "kube-system" is exempt`}},
		{name: "audit: allow-all is reported", d: allowAll(profile.TypeLocalhost, specs.ActAllow), policy: policy("audit"), warning: []string{"allows every syscall"}},
		{name: "deny: one denying rule is a profile", d: func() Decision {
			d := allowAll(profile.TypeLocalhost, specs.ActAllow)
			d.Profile.Syscalls = append(d.Profile.Syscalls, specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActErrno})
			return d
		}(), policy: policy("deny")},
		{name: "deny: the operator's audit mode is not the Pod's doing", d: func() Decision { d := allowAll(profile.TypeRuntimeDefault, specs.ActLog); d.Audit = true; return d }(), policy: policy("deny")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			warning, err := CheckDecision(tc.d, tc.policy)
			switch {
			case tc.errWants == nil && err != nil:
				t.Errorf("error %v", err)
			case tc.errWants != nil && err == nil:
				t.Errorf("no error (warning %q)", warning)
			case err != nil:
				for _, w := range tc.errWants {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q\ndoes not contain %q", err, w)
					}
				}
			}
			if tc.warning == nil && warning != "" {
				t.Errorf("warning %q, want none", warning)
			}
			if tc.warning != nil && warning == "" {
				t.Error("no warning")
			}
			for _, w := range tc.warning {
				if !strings.Contains(warning, w) {
					t.Errorf("warning %q\ndoes not contain %q", warning, w)
				}
			}
			if err != nil && warning != "" {
				t.Errorf("both an error and a warning %q", warning)
			}
		})
	}
}

// TestCheckDecisionAfterDecide runs the policy's unconfined rule on real
// decisions: the privileged default and a Pod annotation.
func TestCheckDecisionAfterDecide(t *testing.T) {
	root, _ := decisionRoot(t)
	policy := DefaultPolicy()
	policy.ProfileRoot = root
	policy.Unconfined = UnconfinedDeny
	policy.ExemptNamespaces = []string{"kube-system"}
	for _, tc := range []struct {
		name    string
		spec    *specs.Spec
		refused bool
	}{
		{"privileged in an ordinary namespace", newSpec(containerd("shop", "p", "app"), privileged), true},
		{"privileged in kube-system", newSpec(containerd("kube-system", "csi", "driver"), privileged), false},
		{"pod annotation unconfined", newSpec(containerd("shop", "p", "app"), annotate(keyPod, "unconfined")), true},
		{"sandbox with pod annotation unconfined", newSpec(containerdSandbox("shop", "p"), annotate(keyPod, "unconfined")), false},
		{"no request", newSpec(containerd("shop", "p", "app")), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Decide("c1", tc.spec, policy)
			if err != nil {
				t.Fatal(err)
			}
			_, err = CheckDecision(d, policy)
			if refused := err != nil; refused != tc.refused {
				t.Errorf("refused = %v (%v), want %v", refused, err, tc.refused)
			}
		})
	}
}

// A Localhost profile in Docker's format is rendered for the container's
// own capabilities, as Docker renders it: the rule for CAP_SYS_ADMIN holders
// reaches only them.
func TestDecideRendersDockerFormat(t *testing.T) {
	root, _ := decisionRoot(t)
	profiletest.WriteFile(t, filepath.Join(root, "docker.json"), `{"defaultAction": "SCMP_ACT_ERRNO",
		"archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
		"syscalls": [
			{"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"},
			{"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
			{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]}}]}`)
	policy := DefaultPolicy()
	policy.ProfileRoot = root
	withSysAdmin := append(append([]string(nil), profile.DefaultCapabilities...), "CAP_SYS_ADMIN")
	for _, tc := range []struct {
		name string
		caps []string
		want []string
	}{
		{"default capabilities", profile.DefaultCapabilities, []string{"read", "write", "exit_group", "ptrace"}},
		{"with CAP_SYS_ADMIN", withSysAdmin, []string{"read", "write", "exit_group", "mount"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Decide("c1", newSpec(withCaps(tc.caps...), annotate(keyPod, "localhost/docker.json")), policy)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range d.Profile.Syscalls {
				got = append(got, r.Names...)
			}
			if !slices.Equal(got, tc.want) || !slices.Equal(d.Profile.Architectures, []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}) {
				t.Errorf("rules %v, arches %v; want %v for the x86 family", got, d.Profile.Architectures, tc.want)
			}
			if _, err := d.Verify(nil); err != nil {
				t.Errorf("the rendering does not verify: %v", err)
			}
		})
	}
}
