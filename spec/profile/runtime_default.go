package profile

import (
	"fmt"
	"runtime"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultCapabilities is the capability set containerd gives a container
// that neither adds nor drops any: containerd's pkg/oci defaultUnixCaps,
// which is unexported, copied in its order. The CRI plugin starts every
// Kubernetes container from it, so RuntimeDefault(DefaultCapabilities) is
// the profile such a container gets.
var DefaultCapabilities = []string{
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_FSETID",
	"CAP_FOWNER",
	"CAP_MKNOD",
	"CAP_NET_RAW",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETFCAP",
	"CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT",
	"CAP_KILL",
	"CAP_AUDIT_WRITE",
}

//go:generate env GOARCH=amd64 CGO_ENABLED=0 go run ./internal/gendefault -o runtime_default_table_x86.go
//go:generate env GOARCH=arm64 CGO_ENABLED=0 go run -exec qemu-aarch64-static ./internal/gendefault -o runtime_default_table_aarch64.go

// runtimeDefaultPieces is containerd's profile for one GOARCH taken apart
// (runtime_default_table_*.go, generated).
type runtimeDefaultPieces struct {
	action       specs.LinuxSeccompAction
	arches       []specs.Arch
	base         []specs.LinuxSyscall
	capRules     map[string][]specs.LinuxSyscall
	withoutAdmin []specs.LinuxSyscall
}

// runtimeDefaults holds the pieces per GOARCH (amd64, arm64), each file
// adding its own.
var runtimeDefaults = map[string]*runtimeDefaultPieces{}

// RuntimeDefaultMachines lists the GOARCHes RuntimeDefaultFor renders.
func RuntimeDefaultMachines() []string {
	out := make([]string, 0, len(runtimeDefaults))
	for m := range runtimeDefaults {
		out = append(out, m)
	}
	slices.Sort(out)
	return out
}

// RuntimeDefault returns containerd's default seccomp profile for a
// container whose bounding set holds capabilities, exactly as containerd
// builds it (contrib/seccomp.DefaultProfile) so that a Pod asking for
// RuntimeDefault gets what the kubelet documents. Capability names must be
// spelled as in an OCI spec ("CAP_SYS_ADMIN"); ParseCapabilities
// normalizes user input. DefaultProfile reads only the bounding set: a
// capability outside it can never be raised, so its syscalls stay denied.
//
// The profile is assembled from pieces generated from containerd's function
// (runtime_default_table.go, by go generate), in the order containerd
// assembles it: the base rules, one block per capability in the order of
// the bounding set, and the rules for containers without CAP_SYS_ADMIN.
// Linking containerd's packages into sysgate-runc would cost ~1.5 ms of
// initialisation on every container create;
// TestRuntimeDefaultMatchesContainerd proves the result identical to
// containerd's for every subset of the capabilities it looks at (on amd64
// natively, on arm64 under qemu-user: make test). As with containerd, the
// architectures follow the build's GOARCH (x86_64, x86 and x32 on amd64;
// arm and aarch64 on arm64), and ptrace is allowed (containerd requires kernel 4.8 for
// that; sysgate supports kernels from 5.10).
func RuntimeDefault(capabilities []string) *specs.LinuxSeccomp {
	p, err := RuntimeDefaultFor(runtime.GOARCH, capabilities)
	if err != nil {
		// sysgate is built for amd64 and arm64 only (the Makefile's ARCH).
		panic(err)
	}
	return p
}

// RuntimeDefaultFor is RuntimeDefault as containerd renders it on the
// machine goarch ("amd64": x86_64, x86, x32 and arch_prctl, modify_ldt;
// "arm64": arm, aarch64 and the arm calls such as cacheflush, set_tls), on
// any host: `sysgate profile default --arch arm64`.
func RuntimeDefaultFor(goarch string, capabilities []string) (*specs.LinuxSeccomp, error) {
	pieces, ok := runtimeDefaults[goarch]
	if !ok {
		return nil, fmt.Errorf("no RuntimeDefault for the machine %q: sysgate has containerd's profile for %s", goarch, strings.Join(RuntimeDefaultMachines(), " and "))
	}
	p := &specs.LinuxSeccomp{
		DefaultAction: pieces.action,
		Architectures: append([]specs.Arch(nil), pieces.arches...),
	}
	add := func(rules []specs.LinuxSyscall) {
		for _, r := range rules {
			p.Syscalls = append(p.Syscalls, copyRule(r))
		}
	}
	add(pieces.base)
	admin := false
	for _, c := range capabilities {
		admin = admin || c == "CAP_SYS_ADMIN"
		add(pieces.capRules[c])
	}
	if !admin {
		add(pieces.withoutAdmin)
	}
	return p, nil
}

// copyRule copies a rule deeply: callers may change the profile they get.
func copyRule(r specs.LinuxSyscall) specs.LinuxSyscall {
	r.Names = append([]string(nil), r.Names...)
	if r.Args != nil {
		r.Args = append([]specs.LinuxSeccompArg{}, r.Args...)
	}
	if r.ErrnoRet != nil {
		r.ErrnoRet = errno(*r.ErrnoRet)
	}
	return r
}

func errno(v uint) *uint { return &v }

// CapabilityNames is every Linux capability, indexed by number
// (linux/capability.h, up to CAP_LAST_CAP = CAP_CHECKPOINT_RESTORE, Linux
// 5.9).
var CapabilityNames = [...]string{
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_DAC_READ_SEARCH",
	"CAP_FOWNER",
	"CAP_FSETID",
	"CAP_KILL",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",
	"CAP_NET_RAW",
	"CAP_IPC_LOCK",
	"CAP_IPC_OWNER",
	"CAP_SYS_MODULE",
	"CAP_SYS_RAWIO",
	"CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE",
	"CAP_SYS_PACCT",
	"CAP_SYS_ADMIN",
	"CAP_SYS_BOOT",
	"CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",
	"CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG",
	"CAP_MKNOD",
	"CAP_LEASE",
	"CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL",
	"CAP_SETFCAP",
	"CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN",
	"CAP_SYSLOG",
	"CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND",
	"CAP_AUDIT_READ",
	"CAP_PERFMON",
	"CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

func isCapability(name string) bool {
	for _, c := range CapabilityNames {
		if c == name {
			return true
		}
	}
	return false
}

// ParseCapabilities parses a comma-separated capability list from the
// command line, accepting "CAP_SYS_ADMIN", "sys_admin" and other case
// variants, and returns the names in OCI spelling ("CAP_SYS_ADMIN"), without
// repeats, in the order given. An empty or blank list is no capabilities.
// Unknown names are refused, since RuntimeDefault would silently ignore a
// misspelled one.
func ParseCapabilities(list string) ([]string, error) {
	out := []string{}
	if strings.Trim(list, " \t") == "" {
		return out, nil
	}
	seen := make(map[string]bool)
	for i, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("capability list %q: item %d is empty; separate capabilities with single commas", list, i+1)
		}
		name := strings.ToUpper(item)
		if !strings.HasPrefix(name, "CAP_") {
			name = "CAP_" + name
		}
		if !isCapability(name) {
			return nil, fmt.Errorf("capability list: %q is not a Linux capability; use names such as CAP_SYS_ADMIN or sys_admin (see capabilities(7))", item)
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out, nil
}
