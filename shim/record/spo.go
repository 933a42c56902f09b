package record

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"sigs.k8s.io/yaml"
)

// The Security Profiles Operator's resource (security-profiles-operator.x-k8s.io/v1beta1
// SeccompProfile): its spec is the OCI profile's fields under the same
// names, so that SPO users can apply sysgate's recordings as they are.
type spoProfile struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Metadata   spoMetadata `json:"metadata"`
	Spec       spoSpec     `json:"spec"`
}

type spoMetadata struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type spoSpec struct {
	DefaultAction specs.LinuxSeccompAction `json:"defaultAction"`
	Architectures []specs.Arch             `json:"architectures,omitempty"`
	Flags         []specs.LinuxSeccompFlag `json:"flags,omitempty"`
	Syscalls      []specs.LinuxSyscall     `json:"syscalls,omitempty"`
}

// SPOAnnotation carries the recording's metadata on the resource.
const SPOAnnotation = "sysgate.io/recording"

var dnsLabel = regexp.MustCompile(`[^a-z0-9-]+`)

// SPOName makes a Kubernetes object name (a DNS-1123 subdomain) of any
// recording name.
func SPOName(name string) string {
	n := strings.Trim(dnsLabel.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(n) > 253 {
		n = strings.Trim(n[:253], "-")
	}
	if n == "" {
		n = "recording"
	}
	return n
}

// MarshalSPO is the profile as an SPO SeccompProfile YAML document.
// defaultErrnoRet has no place in SPO's spec; SPO's default for ERRNO is
// EPERM, the same as a recording's.
func MarshalSPO(p *specs.LinuxSeccomp, meta Metadata, name, namespace string) ([]byte, error) {
	if p.DefaultErrnoRet != nil && *p.DefaultErrnoRet != DefaultErrno {
		return nil, fmt.Errorf("the SPO SeccompProfile has no defaultErrnoRet; this profile's is %d, not EPERM", *p.DefaultErrnoRet)
	}
	m, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	doc := spoProfile{
		APIVersion: "security-profiles-operator.x-k8s.io/v1beta1",
		Kind:       "SeccompProfile",
		Metadata:   spoMetadata{Name: SPOName(name), Namespace: namespace, Annotations: map[string]string{SPOAnnotation: string(m)}},
		Spec:       spoSpec{DefaultAction: p.DefaultAction, Architectures: p.Architectures, Flags: p.Flags, Syscalls: p.Syscalls},
	}
	return yaml.Marshal(doc)
}
