package nri

import (
	"slices"

	"github.com/containerd/nri/pkg/api"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/profile"
)

// containerd's CRI identity annotations, which spec.DescribeContainer
// reads. The plugin writes them from NRI's own fields (the sandbox's
// metadata and the container's CRI name), never from annotations: NRI
// merges every CRI container annotation over the spec's, so a CRI client
// could otherwise claim another namespace.
const (
	containerType      = "io.kubernetes.cri.container-type"
	containerName      = "io.kubernetes.cri.container-name"
	sandboxName        = "io.kubernetes.cri.sandbox-name"
	sandboxNamespace   = "io.kubernetes.cri.sandbox-namespace"
	sandboxID          = "io.kubernetes.cri.sandbox-id"
	containerTypeValue = "container"
)

// specOf is the part of the container's spec that the decision reads,
// built from what NRI shows: identity, the Kubernetes seccomp and sysgate
// audit annotations (the Pod's, where the kubelet puts them, over the
// container's), the profile containerd rendered, and the capabilities.
//
// NRI does not pass the container's capabilities. A privileged container
// is recognised by containerd's writable sysfs (oci.WithPrivileged; a Pod
// cannot mount a sysfs, only bind volumes) and given this process's
// bounding set, which is what containerd gives it; any other container is
// taken to have containerd's default set. That set matters only where
// sysgate renders RuntimeDefault itself (the node default, an annotation):
// a container granted more capabilities gets the stricter profile of the
// default set, never a looser one (docs/deploy.md).
func specOf(pod *api.PodSandbox, ctr *api.Container) *specs.Spec {
	a := map[string]string{
		containerType:    containerTypeValue,
		containerName:    ctr.GetName(),
		sandboxName:      pod.GetName(),
		sandboxNamespace: pod.GetNamespace(),
		sandboxID:        pod.GetId(),
	}
	keys := []string{spec.AnnotationPodSeccomp, spec.AnnotationContainerSeccompPrefix + ctr.GetName(), spec.AnnotationAudit}
	for _, from := range []map[string]string{ctr.GetAnnotations(), pod.GetAnnotations()} {
		for _, k := range keys {
			if v, ok := from[k]; ok {
				a[k] = v
			}
		}
	}
	s := &specs.Spec{
		Annotations: a,
		Process:     &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: profile.DefaultCapabilities}},
		Linux:       &specs.Linux{},
	}
	if privileged(ctr) {
		s.Process.Capabilities.Bounding = spec.CurrentCapabilities()
	}
	if p := ctr.GetLinux().GetSeccompPolicy(); p != nil {
		s.Linux.Seccomp = toOCI(p)
	}
	return s
}

// privileged: containerd's privileged containers have a writable sysfs
// (and all capabilities, which NRI does not show).
func privileged(ctr *api.Container) bool {
	for _, m := range ctr.GetMounts() {
		if m.GetType() == "sysfs" && !slices.Contains(m.GetOptions(), "ro") {
			return true
		}
	}
	return false
}

// criProfile is the CRI's request as NRI passes it (containerd ≥ 2.2.1,
// NRI ≥ v0.10); nil when the CRI named no profile.
func criProfile(ctr *api.Container) *spec.CRIProfile {
	sp := ctr.GetLinux().GetSeccompProfile()
	if sp == nil {
		return nil
	}
	switch sp.GetProfileType() {
	case api.SecurityProfile_RUNTIME_DEFAULT:
		return &spec.CRIProfile{Type: profile.TypeRuntimeDefault}
	case api.SecurityProfile_UNCONFINED:
		return &spec.CRIProfile{Type: profile.TypeUnconfined}
	case api.SecurityProfile_LOCALHOST:
		return &spec.CRIProfile{Type: profile.TypeLocalhost, LocalhostRef: sp.GetLocalhostRef()}
	}
	return &spec.CRIProfile{Type: profile.Type(sp.GetProfileType().String())}
}
