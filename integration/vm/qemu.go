package vm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Accel is how qemu runs the guest.
type Accel struct {
	Name   string // "kvm" or "tcg"
	CPU    string
	Reason string
}

// ChooseAccel picks KVM only when a hardware KVM module (kvm_intel or
// kvm_amd) backs /dev/kvm. A /dev/kvm without one, such as the kvm_pvm
// hypervisor of this project's CI machines, accepts qemu but runs stock
// kernels at a crawl or fails, so it counts as no KVM. want ("kvm", "tcg" or
// "" for auto) overrides the choice.
func ChooseAccel(want string) Accel {
	kvm := Accel{"kvm", "host", ""}
	tcg := Accel{"tcg", "max", ""}
	switch want {
	case "kvm":
		kvm.Reason = "asked for"
		return kvm
	case "tcg":
		tcg.Reason = "asked for"
		return tcg
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		tcg.Reason = "no usable /dev/kvm: " + err.Error()
		return tcg
	}
	f.Close()
	for _, m := range []string{"kvm_intel", "kvm_amd"} {
		if exists("/sys/module/" + m) {
			kvm.Reason = "/dev/kvm backed by " + m
			return kvm
		}
	}
	mods, _ := filepath.Glob("/sys/module/kvm*")
	for i := range mods {
		mods[i] = filepath.Base(mods[i])
	}
	tcg.Reason = "/dev/kvm is not backed by kvm_intel or kvm_amd (modules: " + strings.Join(mods, " ") + "): stock kernels do not run on it"
	return tcg
}

// BootOptions are the fixed parts of every boot.
type BootOptions struct {
	Qemu    string // qemu-system-x86_64
	Accel   Accel
	Initrd  string
	Memory  string        // e.g. "1024"
	Timeout time.Duration // per boot, from qemu start to exit
	LogDir  string        // each boot's serial output is kept here
	Machine string        // "pc" (default) or "microvm"
	// DataSerial, if set, is a file that receives the guest's second
	// serial port (ttyS1): a channel for results that kernel messages on
	// the console cannot interleave with.
	DataSerial string
}

// Boot starts the kernel with the initramfs, -smp 1, and reads the serial
// console until the guest powers off or the timeout kills it.
func Boot(ctx context.Context, k Kernel, x32 bool, opts BootOptions, progress io.Writer) *Run {
	name := k.Spec.Label
	if x32 {
		name += " x32=y"
	} else {
		name += " default"
	}
	r := &Run{Name: name, Kernel: &k, X32Arg: x32}
	// quiet keeps kernel messages off the console the results travel on;
	// panic=-1 with -no-reboot turns a panic into a qemu exit instead of a
	// hang until the timeout.
	appendLine := "console=ttyS0 panic=-1 quiet"
	if x32 {
		appendLine += " syscall.x32=y"
	}
	machine := opts.Machine
	if machine == "" {
		machine = "pc"
	}
	if machine == "microvm" {
		// 7.x kernels hang after "Poking KASLR" on microvm (docs/vm.md).
		appendLine += " nokaslr"
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	// -smp 1: multi-threaded TCG is slower on 2 host cores, and 7.3 hit an
	// int3 oops in text patching with -smp 2.
	args := []string{"-M", machine, "-accel", opts.Accel.Name, "-cpu", opts.Accel.CPU, "-smp", "1", "-m", opts.Memory,
		"-nographic", "-no-reboot", "-nic", "none",
		"-kernel", k.Vmlinuz, "-initrd", opts.Initrd, "-append", appendLine}
	if opts.DataSerial != "" {
		// Naming any serial port drops -nographic's implicit console on
		// stdio, so both are named.
		args = append(args, "-serial", "mon:stdio", "-serial", "file:"+opts.DataSerial)
	}
	cmd := exec.CommandContext(ctx, opts.Qemu, args...)
	cmd.WaitDelay = 2 * time.Second
	logPath := filepath.Join(opts.LogDir, strings.ReplaceAll(name, " ", "_")+".log")
	fmt.Fprintf(progress, "boot %-18s %s started\n", name, k.ABI)
	start, err := runLogged(cmd, logPath, false, r, func() {})
	if start.IsZero() {
		r.Err = "starting qemu: " + err.Error()
		return r
	}
	r.Total = time.Since(start)
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		r.Err = fmt.Sprintf("timed out after %s (serial log: %s)", opts.Timeout, logPath)
	case err != nil && !r.Finished:
		r.Err = fmt.Sprintf("qemu: %v (serial log: %s)", err, logPath)
	}
	return r
}

// RunHost runs the same test binary on the machine's own kernel, so that
// the matrix has the host as a column.
func RunHost(ctx context.Context, p Payload, timeout time.Duration, logDir string) *Run {
	r := &Run{Name: "host"}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tmp, err := os.MkdirTemp("", "sysgate-vm-host-")
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "sh", p.Script, filepath.Dir(p.FilterTest))
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	start, err := runLogged(cmd, filepath.Join(logDir, "host.log"), true, r, func() {
		r.Begun = true
		r.Uname = hostRelease()
		r.Cmdline = readTrim("/proc/cmdline")
		r.Actions = readTrim("/proc/sys/kernel/seccomp/actions_avail")
	})
	if start.IsZero() {
		r.Err = err.Error()
		return r
	}
	r.Finished = ctx.Err() == nil
	r.RC = cmd.ProcessState.ExitCode()
	r.TestTime = time.Since(start)
	r.Total = r.TestTime
	if ctx.Err() != nil {
		r.Err = "timed out after " + timeout.String()
	}
	return r
}

// runLogged starts cmd, copies its stdout (and, with mergeStderr, its
// stderr) to logPath while r parses it, and waits for it. started runs
// once the command has started, before parsing. A zero start time means
// the command never started; err says why. Otherwise err is cmd.Wait's.
func runLogged(cmd *exec.Cmd, logPath string, mergeStderr bool, r *Run, started func()) (start time.Time, err error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return time.Time{}, err
	}
	defer logFile.Close()
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return time.Time{}, err
	}
	cmd.Stderr = logFile
	if mergeStderr {
		cmd.Stderr = cmd.Stdout
	}
	start = time.Now()
	if err := cmd.Start(); err != nil {
		return time.Time{}, err
	}
	started()
	r.Parse(io.TeeReader(pipe, logFile), start, time.Now)
	return start, cmd.Wait()
}

func readTrim(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

func hostRelease() string { return readTrim("/proc/sys/kernel/osrelease") }
