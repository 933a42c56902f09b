package spec

import (
	"os"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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

// DescribeContainer reads the container's identity from containerd's or
// CRI-O's annotations, and whether it is privileged.
func DescribeContainer(id string, s *specs.Spec) Container {
	a := s.Annotations
	first := func(keys ...string) string {
		for _, k := range keys {
			if v := a[k]; v != "" {
				return v
			}
		}
		return ""
	}
	return Container{
		ID:         id,
		Namespace:  first(containerdPodNamespace, crioPodNamespace),
		Pod:        first(containerdPodName, crioPodName),
		Name:       first(containerdContainerName, crioContainerName),
		Sandbox:    first(containerdContainerType, crioContainerType) == "sandbox",
		Privileged: isPrivileged(s),
	}
}

// isPrivileged recognises what containerd, CRI-O and podman produce for a
// privileged container: every capability the runtime itself holds in the
// bounding set (containerd's WithAllCurrentCapabilities), and nothing masked
// or read-only in /proc.
func isPrivileged(s *specs.Spec) bool {
	if s.Process == nil || s.Process.Capabilities == nil {
		return false
	}
	if s.Linux != nil && (len(s.Linux.MaskedPaths) > 0 || len(s.Linux.ReadonlyPaths) > 0) {
		return false
	}
	bounding := s.Process.Capabilities.Bounding
	for _, name := range CurrentCapabilities() {
		if !slices.Contains(bounding, name) {
			return false
		}
	}
	return true
}

// CurrentCapabilities lists the capabilities in this process's bounding set
// (CapBnd in /proc/self/status), which is what a privileged container gets.
func CurrentCapabilities() []string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return capabilityNames[:]
	}
	for _, line := range strings.Split(string(data), "\n") {
		hex, ok := strings.CutPrefix(line, "CapBnd:")
		if !ok {
			continue
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
		if err != nil {
			break
		}
		var names []string
		for bit, name := range capabilityNames {
			if mask&(1<<bit) != 0 {
				names = append(names, name)
			}
		}
		return names
	}
	return capabilityNames[:]
}
