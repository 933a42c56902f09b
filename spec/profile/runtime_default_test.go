package profile

import (
	"bytes"
	"encoding/json"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/contrib/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/spec/internal/profiletest"
	"golang.org/x/sys/unix"
)

// mentionsAllow reports whether any rule, conditional or not, allows the
// syscall.
func mentionsAllow(p *specs.LinuxSeccomp, name string) bool {
	for _, r := range p.Syscalls {
		if r.Action == specs.ActAllow && slices.Contains(r.Names, name) {
			return true
		}
	}
	return false
}

func TestRuntimeDefault(t *testing.T) {
	p := RuntimeDefault(DefaultCapabilities)
	if p.DefaultAction != specs.ActErrno {
		t.Errorf("defaultAction %s, want SCMP_ACT_ERRNO", p.DefaultAction)
	}
	if p.DefaultErrnoRet != nil {
		t.Errorf("defaultErrnoRet %d, want none (EPERM)", *p.DefaultErrnoRet)
	}
	if runtime.GOARCH == "amd64" && !reflect.DeepEqual(p.Architectures, profiletest.X86Arches) {
		t.Errorf("architectures %v, want %v", p.Architectures, profiletest.X86Arches)
	}
	if runtime.GOARCH == "arm64" && !reflect.DeepEqual(p.Architectures, []specs.Arch{specs.ArchARM, specs.ArchAARCH64}) {
		t.Errorf("architectures %v, want containerd's arm64 pair", p.Architectures)
	}
	for _, name := range []string{"read", "write", "openat", "execve", "exit_group", "chroot"} {
		if !profiletest.Allows(p, name) {
			t.Errorf("%s is not allowed with the default capabilities", name)
		}
	}
	for _, name := range []string{"mount", "umount2", "unshare", "setns", "reboot", "init_module", "bpf", "open_by_handle_at", "clone3"} {
		if mentionsAllow(p, name) {
			t.Errorf("%s is allowed with the default capabilities", name)
		}
	}
	// Without CAP_SYS_ADMIN clone is allowed only without namespace flags,
	// and clone3, whose flags seccomp cannot see, fails with ENOSYS so that
	// libc falls back to clone.
	if profiletest.Allows(p, "clone") || !mentionsAllow(p, "clone") {
		t.Error("clone should be allowed only conditionally")
	}
	var clone3 *specs.LinuxSyscall
	for i, r := range p.Syscalls {
		if slices.Contains(r.Names, "clone3") {
			clone3 = &p.Syscalls[i]
		}
	}
	if clone3 == nil || clone3.Action != specs.ActErrno || clone3.ErrnoRet == nil || *clone3.ErrnoRet != uint(unix.ENOSYS) {
		t.Errorf("clone3 rule %+v, want SCMP_ACT_ERRNO with ENOSYS", clone3)
	}
}

func TestRuntimeDefaultCapabilities(t *testing.T) {
	tests := []struct {
		add         string
		allowed     []string
		stillDenied []string
	}{
		{"CAP_SYS_ADMIN", []string{"mount", "umount2", "unshare", "setns", "clone", "clone3", "sethostname"}, []string{"reboot", "init_module"}},
		{"CAP_SYS_BOOT", []string{"reboot"}, []string{"mount"}},
		{"CAP_SYS_MODULE", []string{"init_module", "finit_module", "delete_module"}, []string{"mount"}},
		{"CAP_DAC_READ_SEARCH", []string{"open_by_handle_at"}, []string{"mount"}},
		{"CAP_SYS_TIME", []string{"settimeofday", "clock_settime"}, []string{"mount"}},
		{"CAP_BPF", []string{"bpf"}, []string{"mount", "perf_event_open"}},
	}
	for _, tt := range tests {
		t.Run(tt.add, func(t *testing.T) {
			caps := append(slices.Clone(DefaultCapabilities), tt.add)
			p := RuntimeDefault(caps)
			for _, name := range tt.allowed {
				if !profiletest.Allows(p, name) {
					t.Errorf("%s is not allowed with %s", name, tt.add)
				}
			}
			for _, name := range tt.stillDenied {
				if mentionsAllow(p, name) {
					t.Errorf("%s is allowed with only %s added", name, tt.add)
				}
			}
		})
	}
}

func TestRuntimeDefaultDoesNotKeepItsArgument(t *testing.T) {
	caps := []string{"CAP_SYS_ADMIN"}
	p := RuntimeDefault(caps)
	caps[0] = "CAP_CHOWN"
	if !profiletest.Allows(p, "mount") {
		t.Fatal("mount not allowed")
	}
	if !profiletest.Allows(RuntimeDefault([]string{"CAP_SYS_ADMIN"}), "mount") {
		t.Fatal("the profile depends on an earlier call")
	}
}

// The profile containerd gives containers must pass sysgate's validator
// whatever their capabilities, or RuntimeDefault Pods could not start; and
// with a table of every real syscall, nothing in it deserves a warning:
// the names newer than libseccomp only get notes.
func TestRuntimeDefaultValidates(t *testing.T) {
	for name, caps := range map[string][]string{
		"no caps":       nil,
		"default caps":  DefaultCapabilities,
		"CAP_SYS_ADMIN": append(slices.Clone(DefaultCapabilities), "CAP_SYS_ADMIN"),
		"all caps":      CapabilityNames[:],
	} {
		t.Run(name, func(t *testing.T) {
			notes := 0
			for _, f := range Validate(RuntimeDefault(caps)) {
				if f.Severity != SeverityInfo {
					t.Errorf("%s", f)
				}
				notes++
			}
			if _, byNumber := filter.FilteredByNumber("mseal", specs.ArchX86_64); byNumber && notes == 0 {
				t.Errorf("no notes: mseal is newer than libseccomp %s and must be noted as filtered by number", filter.LibseccompVersion())
			}
		})
	}
}

func TestDefaultCapabilities(t *testing.T) {
	if len(DefaultCapabilities) != 14 {
		t.Errorf("%d default capabilities, want containerd's 14", len(DefaultCapabilities))
	}
	for _, c := range DefaultCapabilities {
		if !isCapability(c) {
			t.Errorf("%q is not a capability", c)
		}
	}
	for _, c := range []string{"CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_BOOT"} {
		if slices.Contains(DefaultCapabilities, c) {
			t.Errorf("%s is not a default capability", c)
		}
	}
}

func TestCapabilityNames(t *testing.T) {
	if len(CapabilityNames) != unix.CAP_LAST_CAP+1 {
		t.Errorf("%d capabilities, want CAP_LAST_CAP+1 = %d", len(CapabilityNames), unix.CAP_LAST_CAP+1)
	}
	for name, nr := range map[string]int{
		"CAP_CHOWN":              unix.CAP_CHOWN,
		"CAP_NET_RAW":            unix.CAP_NET_RAW,
		"CAP_SYS_ADMIN":          unix.CAP_SYS_ADMIN,
		"CAP_MKNOD":              unix.CAP_MKNOD,
		"CAP_SYSLOG":             unix.CAP_SYSLOG,
		"CAP_BPF":                unix.CAP_BPF,
		"CAP_CHECKPOINT_RESTORE": unix.CAP_CHECKPOINT_RESTORE,
	} {
		if CapabilityNames[nr] != name {
			t.Errorf("capability %d is %s, want %s", nr, CapabilityNames[nr], name)
		}
	}
}

func TestParseCapabilities(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{in: "", want: []string{}},
		{in: "  ", want: []string{}},
		{in: "CAP_SYS_ADMIN", want: []string{"CAP_SYS_ADMIN"}},
		{in: "sys_admin", want: []string{"CAP_SYS_ADMIN"}},
		{in: "Sys_Admin, cap_net_raw ,SYSLOG", want: []string{"CAP_SYS_ADMIN", "CAP_NET_RAW", "CAP_SYSLOG"}},
		{in: "sys_admin,CAP_SYS_ADMIN,chown", want: []string{"CAP_SYS_ADMIN", "CAP_CHOWN"}},
		{in: "checkpoint_restore", want: []string{"CAP_CHECKPOINT_RESTORE"}},
		{in: "CAP_SYS_ADMN", err: `"CAP_SYS_ADMN" is not a Linux capability`},
		{in: "chown,admin", err: `"admin" is not a Linux capability`},
		{in: "CAP_", err: "not a Linux capability"},
		{in: "ALL", err: "not a Linux capability"},
		{in: "chown,,kill", err: "item 2 is empty"},
		{in: "chown,", err: "item 2 is empty"},
		{in: ",", err: "item 1 is empty"},
	}
	for _, tt := range tests {
		got, err := ParseCapabilities(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseCapabilities(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseCapabilities(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	// Every capability parses in both spellings.
	for _, c := range CapabilityNames {
		short := strings.ToLower(strings.TrimPrefix(c, "CAP_"))
		got, err := ParseCapabilities(c + "," + short)
		if err != nil || !slices.Equal(got, []string{c}) {
			t.Errorf("ParseCapabilities(%q) = %q, %v", c+","+short, got, err)
		}
	}
}

// TestRuntimeDefaultForMachines: both machines' profiles are there on any
// host, each with its own architectures and arch-specific rules (what
// TestRuntimeDefaultMatchesContainerd proves against containerd on each
// machine: natively on amd64, under qemu-user for arm64 in make test), and
// the machine this binary runs on is the one RuntimeDefault renders.
func TestRuntimeDefaultForMachines(t *testing.T) {
	if got := RuntimeDefaultMachines(); !slices.Equal(got, []string{"amd64", "arm64"}) {
		t.Fatalf("machines %v, want amd64 and arm64", got)
	}
	for _, m := range filter.MachineNames() {
		if _, err := RuntimeDefaultFor(m, nil); err != nil {
			t.Errorf("sysgate compiles for %s but has no RuntimeDefault for it: %v", m, err)
		}
	}
	arm, err := RuntimeDefaultFor("arm64", DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	x86, _ := RuntimeDefaultFor("amd64", DefaultCapabilities)
	if !slices.Equal(arm.Architectures, []specs.Arch{specs.ArchARM, specs.ArchAARCH64}) {
		t.Errorf("arm64 architectures %v", arm.Architectures)
	}
	for _, name := range []string{"cacheflush", "set_tls", "arm_fadvise64_64", "sync_file_range2", "breakpoint"} {
		if !profiletest.Allows(arm, name) || mentionsAllow(x86, name) {
			t.Errorf("%s: allowed on arm64 %v, on amd64 %v; want only arm64", name, profiletest.Allows(arm, name), mentionsAllow(x86, name))
		}
	}
	for _, name := range []string{"arch_prctl", "modify_ldt"} {
		if mentionsAllow(arm, name) || !profiletest.Allows(x86, name) {
			t.Errorf("%s: want allowed on amd64 only", name)
		}
	}
	if _, err := RuntimeDefaultFor("s390x", nil); err == nil || !strings.Contains(err.Error(), "amd64 and arm64") {
		t.Errorf("s390x: %v, want a refusal naming the machines", err)
	}
	native, _ := RuntimeDefaultFor(runtime.GOARCH, DefaultCapabilities)
	if !reflect.DeepEqual(native, RuntimeDefault(DefaultCapabilities)) {
		t.Errorf("RuntimeDefault is not this machine's (%s) profile", runtime.GOARCH)
	}
}

// TestRuntimeDefaultMatchesContainerd: the profile assembled from the
// generated pieces is byte for byte containerd's for this GOARCH (make test
// runs it natively and as arm64 under qemu-user), for every subset of the
// capabilities containerd looks at (each also with the default set around
// it, reversed, and with a capability repeated).
func TestRuntimeDefaultMatchesContainerd(t *testing.T) {
	relevant := []string{
		"CAP_DAC_READ_SEARCH", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_CHROOT", "CAP_SYS_MODULE",
		"CAP_SYS_PACCT", "CAP_SYS_PTRACE", "CAP_SYS_RAWIO", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG",
		"CAP_SYS_NICE", "CAP_SYSLOG", "CAP_BPF", "CAP_PERFMON",
	}
	containerd := func(caps []string) []byte {
		p := seccomp.DefaultProfile(&specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: caps}}})
		data, _ := json.Marshal(p)
		return data
	}
	ours := func(caps []string) []byte {
		data, _ := json.Marshal(RuntimeDefault(caps))
		return data
	}
	check := func(caps []string) {
		if !bytes.Equal(ours(caps), containerd(caps)) {
			t.Fatalf("capabilities %v: the assembled profile differs from containerd's; run go generate ./spec/", caps)
		}
	}
	for mask := 0; mask < 1<<len(relevant); mask++ {
		var caps []string
		for i, c := range relevant {
			if mask&(1<<i) != 0 {
				caps = append(caps, c)
			}
		}
		check(caps)
		if mask%97 == 0 {
			withDefaults := append(append([]string{}, DefaultCapabilities...), caps...)
			check(withDefaults)
			slices.Reverse(withDefaults)
			check(withDefaults)
			if len(caps) > 0 {
				check(append(caps, caps[0]))
			}
		}
	}
	check(slices.DeleteFunc(slices.Clone(CapabilityNames[:]), func(c string) bool { return c == "" }))
	// The caller owns what it gets.
	p := RuntimeDefault(DefaultCapabilities)
	p.Syscalls[0].Names[0] = "changed"
	if RuntimeDefault(DefaultCapabilities).Syscalls[0].Names[0] == "changed" {
		t.Error("RuntimeDefault shares its slices with the table")
	}
}
