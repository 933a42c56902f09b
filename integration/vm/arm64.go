package vm

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The arm64 tier: Debian's arm64 kernels under qemu-system-aarch64 (TCG,
// virt machine) with an initramfs of arm64 binaries, cross-built on the
// x86 host (make build ARCH=arm64). docs/vm.md describes it.

//go:embed arm64/guest_init.sh
var arm64GuestInit []byte

// ARM64Kernels are the arm64 kernel series the tier boots: bookworm's 6.1,
// trixie's 6.12 and a 7.x from trixie-backports.
var ARM64Kernels = []KernelSpec{
	{"6.1", "bookworm", "linux-image-arm64"},
	{"6.12", "trixie", "linux-image-arm64"},
	{"7.3", "trixie-backports", "linux-image-arm64"},
}

// ARM64Payload is what the arm64 guest runs: all static arm64 binaries
// (and the 32-bit ARM probe).
type ARM64Payload struct {
	Sysgate  string
	Probe    string // sysgate-probe built for aarch64
	ProbeARM string // sysgate-probe built for 32-bit ARM (the AArch32 compat entry)
	Naive    string // integration/vm/arm64/naive.c: the aarch64-only control filter and raw-program loader
	Runc     string // sysgate-runc built for arm64
	Userland string // FetchARM64Userland's directory: busybox, runc and its libraries
}

// BuildARM64Initramfs writes the gzip-compressed newc archive with the
// payload and arm64/guest_init.sh as /init.
func BuildARM64Initramfs(p ARM64Payload, out string) error {
	busybox := filepath.Join(p.Userland, "bin", "busybox")
	files := map[string]string{"sysgate/sysgate": p.Sysgate, "sysgate/sysgate-probe": p.Probe, "sysgate/sysgate-probe-arm": p.ProbeARM, "sysgate/naive": p.Naive, "sysgate/sysgate-runc": p.Runc}
	for _, f := range []string{busybox, p.Sysgate, p.Probe, p.ProbeARM, p.Naive, p.Runc} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("arm64 initramfs: %w", err)
		}
	}
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	c := NewCpioWriter(gz)
	for _, d := range []string{"bin", "dev", "proc", "sys", "tmp", "root", "sysgate"} {
		c.Dir(d, 0o755)
	}
	c.CharDev("dev/console", 0o600, 5, 1)
	c.CopyFile("bin/busybox", 0o755, busybox)
	c.Symlink("bin/sh", "busybox")
	c.File("init", 0o755, arm64GuestInit)
	for _, name := range []string{"sysgate/sysgate", "sysgate/sysgate-probe", "sysgate/sysgate-probe-arm", "sysgate/naive", "sysgate/sysgate-runc"} {
		c.CopyFile(name, 0o755, files[name])
	}
	for _, d := range []string{"usr", "usr/sbin", "usr/lib", "usr/lib/aarch64-linux-gnu", "lib", "lib/aarch64-linux-gnu", "bundle", "bundle/rootfs", "bundle/rootfs/bin", "bundle/rootfs/proc", "bundle/rootfs/tmp", "bundle/rootfs/dev"} {
		c.Dir(d, 0o755)
	}
	for _, f := range arm64RuncFiles {
		real, err := filepath.EvalSymlinks(filepath.Join(p.Userland, f))
		if err != nil {
			return fmt.Errorf("arm64 initramfs: %w", err)
		}
		c.CopyFile(f, 0o755, real)
	}
	c.File("bundle/config.json", 0o644, []byte(arm64Bundle))
	c.File("bundle/rootfs/check.sh", 0o755, []byte(arm64ContainerCheck))
	c.CopyFile("bundle/rootfs/bin/busybox", 0o755, busybox)
	for _, applet := range []string{"sh", "grep", "tr", "echo"} {
		c.Symlink("bundle/rootfs/bin/"+applet, "busybox")
	}
	c.CopyFile("bundle/rootfs/sysgate-probe", 0o755, p.Probe)
	c.CopyFile("bundle/rootfs/sysgate-probe-arm", 0o755, p.ProbeARM)
	if err := c.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// FetchARM64Userland unpacks bookworm's arm64 busybox-static, runc, and
// the libc and libseccomp runc loads, under cacheDir/arm64/bookworm-root,
// and returns that directory.
func FetchARM64Userland(cacheDir, mirror string, log io.Writer) (string, error) {
	root := filepath.Join(cacheDir, "arm64", "bookworm-root")
	if exists(filepath.Join(root, ".complete")) {
		return root, nil
	}
	apt := &Apt{Dir: filepath.Join(cacheDir, "apt-arm64-bookworm"), Mirror: mirror, Suites: []string{"bookworm"}, Log: log, Arch: "arm64"}
	if err := apt.Update(12 * time.Hour); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(cacheDir, "arm64-userland-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	debs, err := apt.Download(tmp, []string{"busybox-static/bookworm", "runc/bookworm", "libseccomp2/bookworm", "libc6/bookworm"})
	if err != nil {
		return "", err
	}
	os.RemoveAll(root)
	for _, deb := range debs {
		if out, err := exec.Command("dpkg-deb", "-x", deb, root).CombinedOutput(); err != nil {
			return "", fmt.Errorf("dpkg-deb -x %s: %v: %s", deb, err, out)
		}
	}
	return root, os.WriteFile(filepath.Join(root, ".complete"), nil, 0o644)
}

// arm64RuncFiles are the files of the userland runc needs in the guest, at
// the paths its loader looks for them.
var arm64RuncFiles = []string{
	"usr/sbin/runc",
	"lib/ld-linux-aarch64.so.1",
	"lib/aarch64-linux-gnu/libc.so.6",
	"usr/lib/aarch64-linux-gnu/libseccomp.so.2",
}

// arm64Bundle is the container the guest starts through sysgate-runc in
// front of runc: no linux.seccomp of its own, so the node policy's default
// (RuntimeDefault) decides, as for a Pod that asks for nothing.
const arm64Bundle = `{"ociVersion":"1.0.2","process":{"user":{"uid":0,"gid":0},"args":["/bin/sh","/check.sh"],"env":["PATH=/bin"],"cwd":"/",
"capabilities":{"bounding":["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"],
"effective":["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"],
"permitted":["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"]},
"noNewPrivileges":true},"root":{"path":"rootfs"},"hostname":"arm64",
"mounts":[{"destination":"/proc","type":"proc","source":"proc"},{"destination":"/tmp","type":"tmpfs","source":"tmpfs"}],
"linux":{"namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}]}}
`

// arm64ContainerCheck runs inside the container: its seccomp state, then
// calls whose verdicts only RuntimeDefault explains (clone3 answers ENOSYS),
// from aarch64 and from a 32-bit ARM binary.
const arm64ContainerCheck = `grep -E '^(Seccomp|Seccomp_filters|NoNewPrivs):' /proc/self/status | tr '\t\n' '  '
echo
echo "getppid $(/sysgate-probe 173)"
echo "clone3 $(/sysgate-probe 435 0 0)"
echo "mount $(/sysgate-probe 40 0 0 0 0 0)"
echo "arm-getppid $(/sysgate-probe-arm 64)"
echo "arm-mkdir $(/sysgate-probe-arm 39 s:/tmp/arm 0755)"
echo "arm-mount $(/sysgate-probe-arm 21 0 0 0 0 0)"
`

// ARM64Run is one arm64 boot and what its console said.
type ARM64Run struct {
	Kernel   Kernel
	Wall     time.Duration
	Log      string
	Err      error
	InitAt   float64           // guest uptime when init started
	EndAt    float64           // guest uptime at the END line; 0 if it never came
	Info     map[string]string // SYSGATE-ARM-INFO key=value
	Checks   []ARM64Check
	Matrix   map[string]map[string]string // filter -> path -> outcome
	Bypasses map[string]int               // filter -> directories made that the filter meant to refuse
	Bench    []map[string]string
}

// ARM64Check is one SYSGATE-ARM-CHECK line.
type ARM64Check struct {
	Name, Want, Kernel, Interp string
	OK                         bool
}

// BootARM64 boots k under qemu-system-aarch64 (virt machine, TCG, -cpu
// max: AArch32 at EL0 included, which the compat bypass needs) and parses
// the console.
func BootARM64(ctx context.Context, k Kernel, initrd, logDir string, timeout time.Duration) *ARM64Run {
	r := &ARM64Run{Kernel: k, Info: map[string]string{}, Matrix: map[string]map[string]string{}, Bypasses: map[string]int{}}
	r.Log = filepath.Join(logDir, "arm64-"+k.Spec.Label+".log")
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "qemu-system-aarch64", "-M", "virt", "-accel", "tcg", "-cpu", "max", "-smp", "1", "-m", "1024",
		"-nographic", "-no-reboot", "-kernel", k.Vmlinuz, "-initrd", initrd,
		"-append", "console=ttyAMA0 panic=-1 quiet")
	// The console goes to the log as it comes, so a slow guest can be
	// watched (tail -f).
	os.MkdirAll(logDir, 0o755)
	logFile, err := os.Create(r.Log)
	if err != nil {
		r.Err = err
		return r
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	start := time.Now()
	err = cmd.Run()
	r.Wall = time.Since(start)
	logFile.Close()
	out, _ := os.ReadFile(r.Log)
	if ctx.Err() != nil {
		r.Err = fmt.Errorf("no power-off within %s", timeout)
	} else if err != nil {
		r.Err = fmt.Errorf("qemu: %v", err)
	}
	r.parse(out)
	if r.Err == nil && r.EndAt == 0 {
		r.Err = fmt.Errorf("the guest never printed SYSGATE-ARM-END (see %s)", r.Log)
	}
	return r
}

func (r *ARM64Run) parse(console []byte) {
	sc := bufio.NewScanner(bytes.NewReader(console))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		i := strings.Index(line, "SYSGATE-ARM-")
		if i < 0 {
			continue
		}
		tag, rest, _ := strings.Cut(line[i:], " ")
		kv := fields(rest)
		switch tag {
		case "SYSGATE-ARM-BEGIN":
			r.InitAt, _ = strconv.ParseFloat(kv["uptime"], 64)
		case "SYSGATE-ARM-END":
			r.EndAt, _ = strconv.ParseFloat(kv["uptime"], 64)
		case "SYSGATE-ARM-INFO":
			k, v, _ := strings.Cut(rest, "=")
			r.Info[k] = v
		case "SYSGATE-ARM-CHECK":
			r.Checks = append(r.Checks, ARM64Check{kv["name"], kv["want"], kv["kernel"], kv["interp"], kv["result"] == "ok"})
		case "SYSGATE-ARM-MATRIX":
			m := map[string]string{}
			for k, v := range kv {
				if k != "filter" {
					m[k] = v
				}
			}
			r.Matrix[kv["filter"]] = m
		case "SYSGATE-ARM-BYPASS":
			r.Bypasses[kv["filter"]]++
		case "SYSGATE-ARM-BENCH":
			r.Bench = append(r.Bench, kv)
		}
	}
}

// fields splits "a=1 b=x y" into a=1, b=x (values end at a space).
func fields(s string) map[string]string {
	m := map[string]string{}
	for _, f := range strings.Fields(s) {
		if k, v, ok := strings.Cut(f, "="); ok {
			m[k] = v
		}
	}
	return m
}

// Problems lists why the run fails: no END, a failed check, a bypass of
// sysgate's filters, or a control that was not bypassed although the
// guest has the AArch32 entry (then the test could not tell anything).
func (r *ARM64Run) Problems() []string {
	var out []string
	if r.Err != nil {
		out = append(out, r.Err.Error())
	}
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, fmt.Sprintf("check %s: want %s, kernel %s, interpreter %s", c.Name, c.Want, c.Kernel, c.Interp))
		}
	}
	for _, f := range []string{"sysgate-a64", "sysgate-both"} {
		if r.Bypasses[f] > 0 {
			out = append(out, fmt.Sprintf("%d bypasses of sysgate's filter %s", r.Bypasses[f], f))
		}
	}
	if r.EndAt > 0 && r.Info["aarch32"] != "ok" {
		out = append(out, "the guest has no AArch32 entry ("+r.Info["aarch32"]+"): the compat bypass cannot be tested")
	} else if r.EndAt > 0 && r.Bypasses["naive"] == 0 {
		out = append(out, "the naive aarch64-only control was not bypassed: the compat path did not reach the kernel unfiltered")
	}
	return out
}
