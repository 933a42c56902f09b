package vm

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"fmt"
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
	Busybox  string // busybox-static:arm64's bin/busybox
	Sysgate  string
	Probe    string // sysgate-probe built for aarch64
	ProbeARM string // sysgate-probe built for 32-bit ARM (the AArch32 compat entry)
	Naive    string // integration/vm/arm64/naive.c: the aarch64-only control filter and raw-program loader
}

// BuildARM64Initramfs writes the gzip-compressed newc archive with the
// payload and arm64/guest_init.sh as /init.
func BuildARM64Initramfs(p ARM64Payload, out string) error {
	files := map[string]string{"sysgate/sysgate": p.Sysgate, "sysgate/sysgate-probe": p.Probe, "sysgate/sysgate-probe-arm": p.ProbeARM, "sysgate/naive": p.Naive}
	for _, f := range append([]string{p.Busybox}, p.Sysgate, p.Probe, p.ProbeARM, p.Naive) {
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
	c.CopyFile("bin/busybox", 0o755, p.Busybox)
	c.Symlink("bin/sh", "busybox")
	c.File("init", 0o755, arm64GuestInit)
	for _, name := range []string{"sysgate/sysgate", "sysgate/sysgate-probe", "sysgate/sysgate-probe-arm", "sysgate/naive"} {
		c.CopyFile(name, 0o755, files[name])
	}
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

// FetchARM64Busybox puts busybox-static:arm64 from suite under
// cacheDir/arm64 and returns its path.
func FetchARM64Busybox(cacheDir, mirror, suite string, log *os.File) (string, error) {
	path := filepath.Join(cacheDir, "arm64", "busybox-"+suite)
	if exists(path) {
		return path, nil
	}
	apt := &Apt{Dir: filepath.Join(cacheDir, "apt-arm64-busybox"), Mirror: mirror, Suites: []string{suite}, Log: log, Arch: "arm64"}
	if err := apt.Update(12 * time.Hour); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(cacheDir, "busybox-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	debs, err := apt.Download(tmp, []string{"busybox-static/" + suite})
	if err != nil {
		return "", err
	}
	if len(debs) != 1 {
		return "", fmt.Errorf("busybox-static:arm64: downloaded %v", debs)
	}
	if out, err := exec.Command("dpkg-deb", "-x", debs[0], filepath.Join(tmp, "x")).CombinedOutput(); err != nil {
		return "", fmt.Errorf("dpkg-deb -x %s: %v: %s", debs[0], err, out)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	return path, os.Rename(filepath.Join(tmp, "x", "bin", "busybox"), path)
}

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
