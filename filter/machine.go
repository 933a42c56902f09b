package filter

import (
	"fmt"
	"runtime"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"

	"github.com/sysgate/sysgate/filter/bpf"
)

// Machine is a node's processor family: the ABIs its kernel enters the
// syscall tables through, each with what a seccomp filter sees of it. A
// filter is compiled for one machine; a profile's architectures of other
// machines never match there (ForeignArches). Compiling for a machine other
// than the running one needs nothing of it: libseccomp compiles any
// architecture it knows, and the program is data.
type Machine struct {
	// Name is the Go name of the node's architecture (GOARCH).
	Name string
	// abis, native first.
	abis []machineABI
}

// machineABI is one ABI of a machine.
type machineABI struct {
	arch specs.Arch
	// audit is seccomp_data.arch for this ABI's calls.
	audit uint32
	// nrBit is set in every syscall number of this ABI and in none of the
	// ABI sharing its audit value (x32's X32SyscallBit), or 0.
	nrBit int32
	// width is how many bits of an argument libseccomp compares: 64 on
	// the 64-bit ABIs, 32 on x86, x32 and arm.
	width int
}

// The machines sysgate runs on, each ABI list in containerd's order for
// amd64 (x86_64, x86, x32); the program's parts follow the audit groups
// (x86_64, x32, then i386). ARM64's AArch32 compat entry
// (a 32-bit ARM binary, CONFIG_COMPAT) reports AUDIT_ARCH_ARM.
var (
	MachineAMD64 = &Machine{Name: "amd64", abis: []machineABI{
		{specs.ArchX86_64, bpf.AuditArchX86_64, 0, 64},
		{specs.ArchX86, bpf.AuditArchI386, 0, 32},
		{specs.ArchX32, bpf.AuditArchX86_64, bpf.X32SyscallBit, 32},
	}}
	MachineARM64 = &Machine{Name: "arm64", abis: []machineABI{
		{specs.ArchAARCH64, bpf.AuditArchAARCH64, 0, 64},
		{specs.ArchARM, bpf.AuditArchARM, 0, 32},
	}}
	machines = []*Machine{MachineAMD64, MachineARM64}
)

// NodeMachine is the machine this binary runs on; nil on an architecture
// sysgate is not built for.
func NodeMachine() *Machine {
	m, _ := MachineNamed(runtime.GOARCH)
	return m
}

// MachineNamed finds a machine by its Go name or the name of its native
// architecture: amd64 or x86_64, arm64 or aarch64 (any case, with or
// without SCMP_ARCH_).
func MachineNamed(name string) (*Machine, error) {
	n := strings.ToLower(strings.TrimPrefix(strings.ToUpper(name), "SCMP_ARCH_"))
	for _, m := range machines {
		if n == m.Name || n == strings.ToLower(strings.TrimPrefix(string(m.Native()), "SCMP_ARCH_")) {
			return m, nil
		}
	}
	return nil, fmt.Errorf("%q is not a machine sysgate compiles for; use %s", name, strings.Join(MachineNames(), " or "))
}

// MachineNames lists the machines' Go names.
func MachineNames() []string {
	var out []string
	for _, m := range machines {
		out = append(out, m.Name)
	}
	return out
}

// MachineOf is the machine whose family holds arch, or nil.
func MachineOf(arch specs.Arch) *Machine {
	for _, m := range machines {
		if m.Has(arch) {
			return m
		}
	}
	return nil
}

// Native is the machine's own ABI (x86_64, aarch64).
func (m *Machine) Native() specs.Arch { return m.abis[0].arch }

// Arches are the machine's ABIs, native first.
func (m *Machine) Arches() []specs.Arch {
	out := make([]specs.Arch, len(m.abis))
	for i, a := range m.abis {
		out[i] = a.arch
	}
	return out
}

// Has reports whether arch is one of the machine's ABIs.
func (m *Machine) Has(arch specs.Arch) bool { return m.abi(arch) != nil }

func (m *Machine) abi(arch specs.Arch) *machineABI {
	for i := range m.abis {
		if m.abis[i].arch == arch {
			return &m.abis[i]
		}
	}
	return nil
}

// auditGroups are the machine's distinct seccomp_data.arch values in ABI
// order, each with its ABIs (x86_64 and x32 share one).
func (m *Machine) auditGroups() [][]machineABI {
	var groups [][]machineABI
	for _, a := range m.abis {
		i := slices.IndexFunc(groups, func(g []machineABI) bool { return g[0].audit == a.audit })
		if i < 0 {
			groups = append(groups, []machineABI{a})
			continue
		}
		groups[i] = append(groups[i], a)
	}
	return groups
}

func (o Options) machine() (*Machine, error) {
	if o.Machine != nil {
		return o.Machine, nil
	}
	if m := NodeMachine(); m != nil {
		return m, nil
	}
	native, _ := libseccomp.GetNativeArch()
	return nil, fmt.Errorf("this machine's architecture %s (%s) is not one sysgate compiles for (%s)", runtime.GOARCH, native, strings.Join(MachineNames(), ", "))
}
