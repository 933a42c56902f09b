package spec

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/spec/profile"
	"github.com/sysgate/sysgate/spec/refusal"
)

// Annotations that CRI implementations put in the bundle, and the
// Kubernetes seccomp annotations that a Pod may carry (containerd passes
// them on when the runtime handler's pod_annotations allow them).
const (
	AnnotationPodSeccomp             = "seccomp.security.alpha.kubernetes.io/pod"
	AnnotationContainerSeccompPrefix = "container.seccomp.security.alpha.kubernetes.io/"

	containerdContainerType = "io.kubernetes.cri.container-type"
	containerdContainerName = "io.kubernetes.cri.container-name"
	containerdPodName       = "io.kubernetes.cri.sandbox-name"
	containerdPodNamespace  = "io.kubernetes.cri.sandbox-namespace"

	crioContainerType = "io.kubernetes.cri-o.ContainerType"
	crioContainerName = "io.kubernetes.container.name"
	crioPodName       = "io.kubernetes.pod.name"
	crioPodNamespace  = "io.kubernetes.pod.namespace"
	// AnnotationCRIOSeccompProfilePath is CRI-O's record of the profile
	// type: Unconfined, RuntimeDefault or the absolute Localhost path.
	AnnotationCRIOSeccompProfilePath = "io.kubernetes.cri-o.SeccompProfilePath"
)

// Container is what the decision needs to know about the container.
type Container struct {
	ID         string `json:"id,omitempty"`
	Namespace  string `json:"namespace,omitempty"`
	Pod        string `json:"pod,omitempty"`
	Name       string `json:"name,omitempty"`
	Sandbox    bool   `json:"sandbox,omitempty"`
	Privileged bool   `json:"privileged,omitempty"`
}

// The engines whose identity annotations sysgate reads. Each engine writes
// its own keys over whatever a Pod or a command line put there, so each is
// authoritative only for the engine that wrote the bundle: a bundle with
// both families' keys had one family copied in by someone else.
var (
	containerdIdentity = []string{containerdContainerType, containerdContainerName, containerdPodName, containerdPodNamespace, "io.kubernetes.cri.sandbox-id"}
	crioIdentity       = []string{crioContainerType, "io.kubernetes.cri-o.SandboxID", "io.kubernetes.cri-o.ContainerID", "io.kubernetes.cri-o.SandboxName"}
)

// DescribeContainer reads the container's identity (Pod namespace and name,
// container name, sandbox or not) from the annotations of the engine that
// wrote the bundle, and whether it is privileged. containerd's CRI writes
// io.kubernetes.cri.{container-type,container-name,sandbox-*}, CRI-O
// io.kubernetes.cri-o.{ContainerType,SandboxID,...} with the Kubernetes names
// under io.kubernetes.pod.* and io.kubernetes.container.name. A
// bundle that carries both engines' keys, or Kubernetes names that
// contradict containerd's, is refused: whichever set is not the engine's
// came from a Pod's annotations (CRI-O copies them into the bundle) or a
// command line, and could claim an exempt namespace. A bundle with neither
// engine's keys (Docker, plain runc), or written by podman whatever
// it claims, has no Pod identity.
//
// hostBoundingSet is the capability bounding set of the process that will
// run the container, which "privileged" is measured against; 0 means this
// process's own (sysgate-runc execs the runtime, so the two are the same).
func DescribeContainer(id string, s *specs.Spec, hostBoundingSet uint64) (Container, error) {
	a := s.Annotations
	c := Container{ID: id, Privileged: isPrivileged(s, hostBoundingSet)}
	present := func(keys []string) (out []string) {
		for _, k := range keys {
			if _, ok := a[k]; ok {
				out = append(out, k)
			}
		}
		return out
	}
	fromContainerd, fromCRIO := present(containerdIdentity), present(crioIdentity)
	switch {
	case writtenByPodman(a):
		// podman writes io.podman.annotations.* on every container and
		// passes --annotation through: any Kubernetes identity in its
		// bundles is the user's claim, not a Pod's.
	case len(fromContainerd) > 0 && len(fromCRIO) > 0:
		slices.Sort(fromContainerd)
		slices.Sort(fromCRIO)
		return c, refusal.Errorf(refusal.BadInput, "the bundle carries both containerd's identity annotations (%s) and CRI-O's (%s); one engine wrote it and the other set was copied in from a Pod or a command line, so neither is trusted: remove the annotations that are not the engine's", strings.Join(fromContainerd, ", "), strings.Join(fromCRIO, ", "))
	case len(fromContainerd) > 0:
		c.Namespace, c.Pod, c.Name = a[containerdPodNamespace], a[containerdPodName], a[containerdContainerName]
		c.Sandbox = a[containerdContainerType] == "sandbox"
		for key, v := range map[string]string{crioPodNamespace: c.Namespace, crioPodName: c.Pod, crioContainerName: c.Name} {
			if got, ok := a[key]; ok && got != v {
				return c, refusal.Errorf(refusal.BadInput, "annotation %s is %q but containerd's identity says %q: a Pod or a command line set it; remove it", key, got, v)
			}
		}
	case len(fromCRIO) > 0:
		c.Namespace, c.Pod, c.Name = a[crioPodNamespace], a[crioPodName], a[crioContainerName]
		c.Sandbox = a[crioContainerType] == "sandbox"
	}
	return c, nil
}

// writtenByPodman: podman sets io.podman.annotations.{init,autoremove,...}
// on every container it creates (seen with podman 4.3).
func writtenByPodman(a map[string]string) bool {
	for k := range a {
		if strings.HasPrefix(k, "io.podman.annotations.") {
			return true
		}
	}
	return false
}

// isPrivileged recognises what containerd, CRI-O and podman produce for a
// privileged container: every capability the runtime itself holds in the
// bounding set (containerd's WithAllCurrentCapabilities), and nothing masked
// or read-only in /proc.
func isPrivileged(s *specs.Spec, hostBoundingSet uint64) bool {
	if s.Process == nil || s.Process.Capabilities == nil {
		return false
	}
	if s.Linux != nil && (len(s.Linux.MaskedPaths) > 0 || len(s.Linux.ReadonlyPaths) > 0) {
		return false
	}
	bounding := s.Process.Capabilities.Bounding
	host := CurrentCapabilities()
	if hostBoundingSet != 0 {
		host = capabilitiesIn(hostBoundingSet)
	}
	for _, name := range host {
		if !slices.Contains(bounding, name) {
			return false
		}
	}
	return true
}

// CurrentCapabilities lists the capabilities in this process's bounding set
// (CapBnd in /proc/self/status), which is what a privileged container gets.
// Unreadable, it is every capability sysgate knows.
func CurrentCapabilities() []string {
	mask, err := BoundingSet("/proc/self/status")
	if err != nil {
		return profile.CapabilityNames[:]
	}
	return capabilitiesIn(mask)
}

// capabilitiesIn names the capabilities of a CapBnd mask.
func capabilitiesIn(mask uint64) []string {
	var names []string
	for bit, name := range profile.CapabilityNames {
		if mask&(1<<bit) != 0 {
			names = append(names, name)
		}
	}
	return names
}

// BoundingSet reads the CapBnd mask of a /proc/<pid>/status file.
func BoundingSet(status string) (uint64, error) {
	data, err := os.ReadFile(status)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if hex, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: CapBnd: %w", status, err)
			}
			return mask, nil
		}
	}
	return 0, fmt.Errorf("%s has no CapBnd", status)
}
