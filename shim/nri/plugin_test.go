package nri

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/nri/pkg/api"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/bundle"
	"github.com/sysgate/sysgate/spec/profile"
	"github.com/sysgate/sysgate/spec/refusal"
)

func testPod(annotations map[string]string) *api.PodSandbox {
	return &api.PodSandbox{Id: "pod1", Name: "web", Namespace: "team-a", RuntimeHandler: "runc", Annotations: annotations}
}

func testContainer(annotations map[string]string, sp *api.SecurityProfile, mounts ...*api.Mount) *api.Container {
	return &api.Container{Id: "ctr1", PodSandboxId: "pod1", Name: "app", Annotations: annotations, Mounts: mounts,
		Linux: &api.LinuxContainer{SeccompProfile: sp}}
}

// TestIdentityComesFromNRIFields: NRI merges every CRI container annotation
// over the spec's, so a client could claim another namespace (an exempt
// one) or another engine's identity; the plugin reads identity from the
// sandbox's metadata and the container's name only.
func TestIdentityComesFromNRIFields(t *testing.T) {
	forged := map[string]string{
		sandboxNamespace:                      "kube-system",
		sandboxName:                           "other",
		containerName:                         "other",
		containerType:                         "sandbox",
		"io.kubernetes.cri-o.ContainerType":   "container",
		"io.kubernetes.pod.namespace":         "kube-system",
		"io.podman.annotations.autoremove":    "FALSE",
		bundle.AnnotationDecision:             `{"source":"spec","type":"Unconfined","via":"nri","mac":"00"}`,
		spec.AnnotationCRIOSeccompProfilePath: "Unconfined",
	}
	s := specOf(testPod(nil), testContainer(forged, nil))
	c, err := spec.DescribeContainer("ctr1", s, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Namespace != "team-a" || c.Pod != "web" || c.Name != "app" || c.Sandbox {
		t.Errorf("identity %+v, want team-a/web app, not a sandbox", c)
	}
	for k := range forged {
		if k == sandboxNamespace || k == sandboxName || k == containerName || k == containerType {
			continue
		}
		if _, ok := s.Annotations[k]; ok {
			t.Errorf("annotation %s reached the decision", k)
		}
	}
}

// TestSeccompAnnotationsReachTheDecision: the Kubernetes seccomp
// annotations and sysgate's audit annotation, from the Pod (where the
// kubelet puts them) over the container's.
func TestSeccompAnnotationsReachTheDecision(t *testing.T) {
	pod := testPod(map[string]string{spec.AnnotationPodSeccomp: "runtime/default", spec.AnnotationContainerSeccompPrefix + "app": "unconfined", spec.AnnotationAudit: "true"})
	s := specOf(pod, testContainer(map[string]string{spec.AnnotationPodSeccomp: "unconfined"}, nil))
	for k, v := range pod.Annotations {
		if s.Annotations[k] != v {
			t.Errorf("%s = %q, want the Pod's %q", k, s.Annotations[k], v)
		}
	}
	if _, ok := specOf(testPod(nil), testContainer(map[string]string{spec.AnnotationContainerSeccompPrefix + "other": "unconfined"}, nil)).Annotations[spec.AnnotationContainerSeccompPrefix+"other"]; ok {
		t.Error("another container's annotation reached the decision")
	}
}

func TestPrivilegedFromWritableSysfs(t *testing.T) {
	for _, c := range []struct {
		name   string
		mounts []*api.Mount
		want   bool
	}{
		{"containerd's read-only sysfs", []*api.Mount{{Destination: "/sys", Type: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}}}, false},
		{"privileged: sysfs rw", []*api.Mount{{Destination: "/sys", Type: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "rw"}}}, true},
		{"a Pod's bind of the host's /sys is no sysfs", []*api.Mount{{Destination: "/sys", Type: "bind", Source: "/sys", Options: []string{"rbind", "rw"}}}, false},
		{"no mounts", nil, false},
	} {
		if got := privileged(testContainer(nil, nil, c.mounts...)); got != c.want {
			t.Errorf("%s: privileged %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCarried(t *testing.T) {
	eperm, enosys := uint(1), uint(38)
	p := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno}
	if got, err := carried(p); err != nil || got != p {
		t.Errorf("no defaultErrnoRet: %v %v", got, err)
	}
	withEPERM := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: &eperm}
	if got, err := carried(withEPERM); err != nil || got.DefaultErrnoRet != nil || withEPERM.DefaultErrnoRet == nil {
		t.Errorf("EPERM: %+v %v (the input must stay as it was)", got, err)
	}
	_, err := carried(&specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: &enosys})
	if reason, ok := refusal.Of(err); !ok || reason != refusal.InvalidProfile {
		t.Errorf("ENOSYS: want invalid-profile, got %v", err)
	}
}

// TestCarriedIsWhatNRIWrites holds carried against NRI's own conversion:
// the profile sysgate records is byte for byte the one containerd writes.
func TestCarriedIsWhatNRIWrites(t *testing.T) {
	rd := profile.RuntimeDefault(profile.DefaultCapabilities)
	want, err := carried(rd)
	if err != nil {
		t.Fatal(err)
	}
	// NRI's generator (AdjustSeccompPolicy) from the message the plugin sends.
	msg := api.FromOCILinuxSeccomp(want)
	got := &specs.LinuxSeccomp{DefaultAction: specs.LinuxSeccompAction(msg.DefaultAction), ListenerPath: msg.ListenerPath, ListenerMetadata: msg.ListenerMetadata, Syscalls: api.ToOCILinuxSyscalls(msg.Syscalls)}
	for _, a := range msg.Architectures {
		got.Architectures = append(got.Architectures, specs.Arch(a))
	}
	for _, f := range msg.Flags {
		got.Flags = append(got.Flags, specs.LinuxSeccompFlag(f))
	}
	if spec.DigestOf(got) != spec.DigestOf(want) {
		t.Error("NRI writes another profile than sysgate records")
	}
	// And containerd's rendering read back through toOCI is the profile.
	if spec.DigestOf(toOCI(api.FromOCILinuxSeccomp(rd))) != spec.DigestOf(rd) {
		t.Error("toOCI loses a field of containerd's rendering")
	}
}

// writePolicy is a policy file for the plugin under a fresh root.
func writePolicy(t *testing.T, extra string) (path, root string) {
	t.Helper()
	dir := t.TempDir()
	root = filepath.Join(dir, "seccomp")
	if err := os.MkdirAll(filepath.Join(root, "profiles"), 0o755); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "config.toml")
	body := fmt.Sprintf("profile_root = %q\ncache_dir = %q\ndecision_log = %q\nlog_denials = false\n%s\n", root, filepath.Join(dir, "cache"), filepath.Join(dir, "decisions.jsonl"), extra)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, root
}

func TestCreateContainer(t *testing.T) {
	path, _ := writePolicy(t, `nri_runtime_handlers = ["runc", "crun"]`+"\n"+`nri_crun_handlers = ["crun"]`)
	p := &Plugin{PolicyPath: path}
	ctx := context.Background()
	rd := &api.SecurityProfile{ProfileType: api.SecurityProfile_RUNTIME_DEFAULT}

	adjust, _, err := p.CreateContainer(ctx, testPod(nil), testContainer(map[string]string{bundle.AnnotationCrunBPF: "AAAA", "run.oci.seccomp.receiver": "/tmp/x"}, rd))
	if err != nil {
		t.Fatal(err)
	}
	if adjust.GetLinux().GetSeccompPolicy() == nil {
		t.Fatal("no profile in the adjustment")
	}
	var r bundle.Record
	if err := json.Unmarshal([]byte(adjust.Annotations[bundle.AnnotationDecision]), &r); err != nil || r.Via != spec.ViaNRI || r.MAC == "" {
		t.Errorf("record %+v: %v", r, err)
	}
	for _, k := range []string{bundle.AnnotationCrunBPF, "run.oci.seccomp.receiver"} {
		if _, marked := adjust.Annotations[api.MarkForRemoval(k)]; !marked {
			t.Errorf("the client's %s is not removed", k)
		}
	}

	crunPod := testPod(nil)
	crunPod.RuntimeHandler = "crun"
	adjust, _, err = p.CreateContainer(ctx, crunPod, testContainer(nil, rd))
	if err != nil || adjust.Annotations[bundle.AnnotationCrunBPF] == "" {
		t.Errorf("crun handler: no program handed over (%v)", err)
	}

	other := testPod(nil)
	other.RuntimeHandler = "kata"
	if adjust, _, err := p.CreateContainer(ctx, other, testContainer(nil, rd)); err != nil || adjust != nil {
		t.Errorf("a handler outside nri_runtime_handlers was adjusted: %v %v", adjust, err)
	}

	_, _, err = p.CreateContainer(ctx, testPod(map[string]string{spec.AnnotationPodSeccomp: "localhost/missing.json"}), testContainer(nil, nil))
	if err == nil || !strings.HasPrefix(err.Error(), "sysgate: ") || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("a missing Localhost profile: %v", err)
	}
}

// TestBadPolicyFailsCreates: a policy that does not load refuses every
// create; a typo must never weaken a node.
func TestBadPolicyFailsCreates(t *testing.T) {
	path, _ := writePolicy(t, "no_such_key = 1")
	p := &Plugin{PolicyPath: path}
	if _, _, err := p.CreateContainer(context.Background(), testPod(nil), testContainer(nil, nil)); err == nil || !strings.Contains(err.Error(), "no_such_key") {
		t.Errorf("want the policy's error, got %v", err)
	}
}

type countingMetrics struct{ decided, refused []string }

func (m *countingMetrics) PlanSeconds(float64)   {}
func (m *countingMetrics) CacheLookup(bool)      {}
func (m *countingMetrics) Refused(reason string) { m.refused = append(m.refused, reason) }
func (m *countingMetrics) Decided(source, typ string, unconfined bool) {
	m.decided = append(m.decided, fmt.Sprintf("%s/%s/%v", source, typ, unconfined))
}

// TestMetricsCountDecisions: the plugin counts as the helper counts.
func TestMetricsCountDecisions(t *testing.T) {
	path, _ := writePolicy(t, `unconfined = "deny"`)
	m := &countingMetrics{}
	p := &Plugin{PolicyPath: path, Metrics: m}
	ctx := context.Background()
	p.CreateContainer(ctx, testPod(nil), testContainer(nil, &api.SecurityProfile{ProfileType: api.SecurityProfile_RUNTIME_DEFAULT}))
	p.CreateContainer(ctx, testPod(map[string]string{spec.AnnotationPodSeccomp: "unconfined"}), testContainer(nil, nil))
	if strings.Join(m.decided, ",") != "cri field/RuntimeDefault/false" || strings.Join(m.refused, ",") != "policy" {
		t.Errorf("decided %v, refused %v", m.decided, m.refused)
	}
}
