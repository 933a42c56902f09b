package cri

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/integration/nodekit"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// seccompField is a Pod manifest's seccompProfile: Type is RuntimeDefault,
// Localhost or Unconfined, Localhost is localhostProfile (relative to the
// kubelet's seccomp root). nil means the field is absent.
type seccompField struct {
	Type      string
	Localhost string
}

var (
	runtimeDefault = &seccompField{Type: "RuntimeDefault"}
	unconfined     = &seccompField{Type: "Unconfined"}
	auditProfile   = &seccompField{Type: "Localhost", Localhost: "profiles/audit.json"}
	multiArch      = &seccompField{Type: "Localhost", Localhost: "profiles/multiarch.json"}
	// noCRIField sends no profile at all, as CRI clients other than the
	// kubelet may (crictl without a seccomp member); only NRI tells it
	// from Unconfined.
	noCRIField = &seccompField{}
)

// pod is the part of a Pod manifest that the tests vary.
type pod struct {
	Name        string
	Annotations map[string]string
	Seccomp     *seccompField // spec.securityContext.seccompProfile
	Containers  []container
}

type container struct {
	Name    string
	Seccomp *seccompField // containers[].securityContext.seccompProfile
	Command []string      // nil: a shell that waits for SIGTERM
}

// kubeletProfile is the kubelet's getSeccompProfile/fieldSeccompProfile
// (pkg/kubelet/kuberuntime/helpers.go): the container field, else the Pod
// field, else Unconfined (RuntimeDefault only with --seccomp-default, which
// is off here: sysgate's node default stands in for it). Localhost becomes
// an absolute localhost_ref under the kubelet's seccomp root.
func kubeletProfile(root string, c, p *seccompField) *runtimeapi.SecurityProfile {
	f := c
	if f == nil {
		f = p
	}
	switch {
	case f == noCRIField:
		return nil
	case f == nil || f.Type == "Unconfined":
		return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}
	case f.Type == "RuntimeDefault":
		return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}
	}
	return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: filepath.Join(root, f.Localhost)}
}

var podSeq atomic.Int64

// sandboxConfig is the PodSandboxConfig the kubelet sends for a
// host-network Pod. The sandbox always gets RuntimeDefault: the kubelet
// forces it so that a strict Pod-level profile cannot break pause
// (kuberuntime_sandbox.go, kubernetes#84623).
func sandboxConfig(p pod, logDir string) *runtimeapi.PodSandboxConfig {
	n := podSeq.Add(1)
	return &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{
			Name: p.Name, Namespace: "default", Uid: fmt.Sprintf("uid-%s-%d-%d", p.Name, os.Getpid(), n), Attempt: 0,
		},
		LogDirectory: logDir,
		Labels:       map[string]string{"io.kubernetes.pod.name": p.Name, "io.kubernetes.pod.namespace": "default"},
		Annotations:  p.Annotations,
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE, Pid: runtimeapi.NamespaceMode_CONTAINER},
				Seccomp:          &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault},
			},
		},
	}
}

// waitShell is PID 1 of a test container: it stays up for exec and stops
// at once on SIGTERM (sh as PID 1 ignores it otherwise).
var waitShell = []string{"sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"}

func containerConfig(p pod, c container, root string) *runtimeapi.ContainerConfig {
	cmd := c.Command
	if cmd == nil {
		cmd = waitShell
	}
	return &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: c.Name},
		Image:    &runtimeapi.ImageSpec{Image: busyboxImage},
		Command:  cmd,
		LogPath:  c.Name + ".log",
		Labels:   map[string]string{"io.kubernetes.container.name": c.Name},
		Linux: &runtimeapi.LinuxContainerConfig{
			SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE, Pid: runtimeapi.NamespaceMode_CONTAINER},
				Seccomp:          kubeletProfile(root, c.Seccomp, p.Seccomp),
			},
		},
	}
}

// runningPod is a Pod the CRI created.
type runningPod struct {
	ID         string
	Containers map[string]string // name -> container id
}

// runPod does what the kubelet does for a Pod: RunPodSandbox, then
// CreateContainer and StartContainer per container. It returns the first
// error as crictl printed it; the Pod is removed when the test ends.
func (d *daemon) runPod(t testing.TB, handler string, p pod) (runningPod, error) {
	t.Helper()
	dir := t.TempDir()
	sb := sandboxConfig(p, dir)
	sbPath := writeJSON(t, dir, "pod.json", sb)
	out, stderr, err := d.crictlErr("runp", "--runtime", handler, sbPath)
	if err != nil {
		return runningPod{}, fmt.Errorf("crictl runp: %v: %s%s", err, out, stderr)
	}
	rp := runningPod{ID: strings.TrimSpace(out), Containers: map[string]string{}}
	t.Cleanup(func() { d.crictlErr("rmp", "-f", rp.ID) })
	for _, c := range p.Containers {
		cPath := writeJSON(t, dir, c.Name+".json", containerConfig(p, c, d.profileRoot))
		out, stderr, err := d.crictlErr("create", rp.ID, cPath, sbPath)
		if err != nil {
			return rp, fmt.Errorf("crictl create %s: %v: %s%s", c.Name, err, out, stderr)
		}
		id := strings.TrimSpace(out)
		rp.Containers[c.Name] = id
		if out, stderr, err := d.crictlErr("start", id); err != nil {
			return rp, fmt.Errorf("crictl start %s: %v: %s%s", c.Name, err, out, stderr)
		}
	}
	return rp, nil
}

func writeJSON(t testing.TB, dir, name string, v any) string {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeAuditProfile installs the seed's profiles/audit.json under the
// kubelet-style root, made usable (nodekit.AuditJSON), and the same profile
// as a mixed-architecture cluster shares it: other machines' architectures
// beside the x86 family. Little-endian ones: runc itself cannot load a
// big-endian one (s390x) beside x86, with or without sysgate, and validate
// warns about it.
func writeAuditProfile(t testing.TB, root string) {
	t.Helper()
	p := nodekit.AuditJSON()
	if err := nodekit.WriteProfile(root, "profiles/audit.json", p); err != nil {
		t.Fatal(err)
	}
	p.Architectures = append(p.Architectures, specs.ArchAARCH64, specs.ArchARM)
	if err := nodekit.WriteProfile(root, "profiles/multiarch.json", p); err != nil {
		t.Fatal(err)
	}
}
