package profile

import (
	"slices"
	"testing"
)

// Each condition as Docker's setupSeccomp judges it: includes keeps a rule
// only when every part holds, excludes drops it when any part holds.
func TestRenderConditions(t *testing.T) {
	template, err := ParseTemplate([]byte(`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
		{"names": ["read"], "action": "SCMP_ACT_ALLOW"},
		{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
		{"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN", "CAP_CHOWN"]}},
		{"names": ["clone"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]}},
		{"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
		{"names": ["s390_pci_mmio_read"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["amd64"]}},
		{"names": ["old_only"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.10"}},
		{"names": ["empty"], "action": "SCMP_ACT_ALLOW", "includes": {}, "excludes": {}}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	amd64new := Node{Arch: "amd64", Kernel: 6, Major: 18}
	for _, tc := range []struct {
		name string
		caps []string
		node Node
		want []string
	}{
		{"no caps, new amd64 kernel", nil, amd64new, []string{"read", "ptrace", "clone", "arch_prctl", "empty"}},
		{"one of two included caps", []string{"CAP_SYS_ADMIN"}, amd64new, []string{"read", "ptrace", "arch_prctl", "empty"}},
		{"both included caps", []string{"CAP_SYS_ADMIN", "CAP_CHOWN"}, amd64new, []string{"read", "ptrace", "mount", "arch_prctl", "empty"}},
		{"one excluded cap is enough", []string{"CAP_NET_ADMIN"}, amd64new, []string{"read", "ptrace", "arch_prctl", "empty"}},
		{"old kernel", nil, Node{Arch: "amd64", Kernel: 4, Major: 4}, []string{"read", "clone", "arch_prctl", "old_only", "empty"}},
		{"minKernel equal is at least", nil, Node{Arch: "amd64", Kernel: 4, Major: 8}, []string{"read", "ptrace", "clone", "arch_prctl", "old_only", "empty"}},
		{"another architecture", nil, Node{Arch: "s390x", Kernel: 6, Major: 1}, []string{"read", "ptrace", "clone", "s390_pci_mmio_read", "empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range template.Render(tc.caps, tc.node).Syscalls {
				got = append(got, r.Names...)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("rules %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := template.Unconditional(); err == nil {
		t.Error("a conditional template rendered without a container")
	}
}
