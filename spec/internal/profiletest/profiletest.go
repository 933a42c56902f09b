package profiletest

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// AuditJSON is the seed's profiles/audit.json: everything is
// allowed except creating directories, which fails with EPERM.
const AuditJSON = `{
  "defaultAction": "SCMP_ACT_ALLOW",
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  "syscalls": [
    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}
  ]
}`

// AuditWant is AuditJSON parsed.
func AuditWant() *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: X86Arches,
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: UintPtr(1)},
		},
	}
}

// OtherJSON is a second valid profile, different from the first.
const OtherJSON = `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],"syscalls":[{"names":["read","write","exit_group"],"action":"SCMP_ACT_ALLOW"}]}`

func WriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func Symlink(t testing.TB, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func OtherWant() *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: X86Arches,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"read", "write", "exit_group"}, Action: specs.ActAllow}},
	}
}

func UintPtr(v uint) *uint { return &v }

var X86Arches = []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}

// Normalize drops the difference between nil and empty slices that
// json.Marshal cannot keep: the omitempty fields of specs.LinuxSeccomp.
func Normalize(p *specs.LinuxSeccomp) *specs.LinuxSeccomp {
	q := *p
	if len(q.Architectures) == 0 {
		q.Architectures = nil
	}
	if len(q.Flags) == 0 {
		q.Flags = nil
	}
	if len(q.Syscalls) == 0 {
		q.Syscalls = nil
	}
	q.Syscalls = append([]specs.LinuxSyscall(nil), q.Syscalls...)
	for i := range q.Syscalls {
		if len(q.Syscalls[i].Args) == 0 {
			q.Syscalls[i].Args = nil
		}
	}
	return &q
}

// Allows reports whether some rule Allows the syscall unconditionally.
func Allows(p *specs.LinuxSeccomp, name string) bool {
	for _, r := range p.Syscalls {
		if r.Action == specs.ActAllow && len(r.Args) == 0 && slices.Contains(r.Names, name) {
			return true
		}
	}
	return false
}
