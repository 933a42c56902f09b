package nodekit

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/spec/profile"
)

// AuditJSON is the seed's profiles/audit.json made usable: the seed's
// allow-list of seven syscalls cannot run a shell, so this is containerd's
// RuntimeDefault without mkdir and mkdirat. A shell runs, and the seed's
// `mkdir /tmp/test` fails with EPERM.
func AuditJSON() *specs.LinuxSeccomp {
	p := profile.RuntimeDefault(profile.DefaultCapabilities)
	for i := range p.Syscalls {
		p.Syscalls[i].Names = slices.DeleteFunc(p.Syscalls[i].Names, func(n string) bool { return n == "mkdir" || n == "mkdirat" })
	}
	p.Syscalls = slices.DeleteFunc(p.Syscalls, func(s specs.LinuxSyscall) bool { return len(s.Names) == 0 })
	return p
}

// WriteProfile writes p as JSON to root/rel, creating its directories.
func WriteProfile(root, rel string, p *specs.LinuxSeccomp) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
