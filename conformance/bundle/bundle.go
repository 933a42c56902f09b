package bundle

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/profile"
)

// BusyboxPath is Debian's busybox-static.
const BusyboxPath = "/bin/busybox"

// Options shape a bundle. The zero value runs `sh` with containerd's
// default capabilities, no_new_privs, and no seccomp profile.
type Options struct {
	Args         []string
	Seccomp      *specs.LinuxSeccomp
	Annotations  map[string]string
	Capabilities []string // nil: profile.DefaultCapabilities
	// Privileged gives every capability and masks nothing, as containerd
	// does for a privileged container.
	Privileged bool
	// AllowNewPrivileges clears process.noNewPrivileges.
	AllowNewPrivileges bool
	// Files are copied into the root filesystem: destination inside the
	// container -> source on the host.
	Files map[string]string
}

// Create writes dir/rootfs and dir/config.json and returns the spec.
func Create(dir string, opts Options) (*specs.Spec, error) {
	if err := Rootfs(filepath.Join(dir, "rootfs")); err != nil {
		return nil, err
	}
	for dest, src := range opts.Files {
		if err := copyFile(src, filepath.Join(dir, "rootfs", dest), 0o755); err != nil {
			return nil, err
		}
	}
	s := Spec(opts)
	data, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		return nil, err
	}
	return s, os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644)
}

// Rootfs makes a busybox root filesystem: the static binary and a link per
// applet, plus the directories a container expects.
func Rootfs(root string) error {
	for _, d := range []string{"bin", "proc", "dev", "sys", "tmp", "etc", "root"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	if err := copyFile(BusyboxPath, filepath.Join(root, "bin", "busybox"), 0o755); err != nil {
		return fmt.Errorf("%w (install busybox-static)", err)
	}
	out, err := exec.Command(BusyboxPath, "--list").Output()
	if err != nil {
		return fmt.Errorf("%s --list: %w", BusyboxPath, err)
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet == "busybox" {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(root, "bin", applet)); err != nil && !os.IsExist(err) {
			return err
		}
	}
	return os.WriteFile(filepath.Join(root, "etc", "passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
}

// Spec is the config.json content for opts.
func Spec(opts Options) *specs.Spec {
	args := opts.Args
	if len(args) == 0 {
		args = []string{"sh"}
	}
	caps := opts.Capabilities
	if caps == nil {
		caps = profile.DefaultCapabilities
	}
	if opts.Privileged {
		caps = spec.CurrentCapabilities()
	}
	s := &specs.Spec{
		// crun 1.8.1 refuses versions newer than it knows; containerd 1.6 renders 1.0.2-dev.
		Version:  "1.0.2-dev",
		Root:     &specs.Root{Path: "rootfs"},
		Hostname: "sysgate-test",
		Process: &specs.Process{
			Args: args,
			Env:  []string{"PATH=/bin", "HOME=/root"},
			Cwd:  "/",
			User: specs.User{UID: 0, GID: 0},
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: caps, Permitted: caps,
			},
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
			NoNewPrivileges: !opts.AllowNewPrivileges,
		},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=1777"}},
		},
		Annotations: opts.Annotations,
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
				{Type: specs.MountNamespace}, {Type: specs.NetworkNamespace},
			},
			Seccomp: opts.Seccomp,
		},
	}
	if !opts.Privileged {
		s.Linux.MaskedPaths = []string{"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"}
		s.Linux.ReadonlyPaths = []string{"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
	}
	return s
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
