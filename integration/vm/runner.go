package vm

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Config is one matrix run.
type Config struct {
	CacheDir string // kernels and apt state, kept between runs
	Mirror   string
	Kernels  []KernelSpec
	Payload  Payload
	OutDir   string // initramfs and serial logs of this run
	Jobs     int    // boots at once
	Timeout  time.Duration
	Accel    string // "", "kvm" or "tcg"
	Machine  string
	Host     bool   // also run the tests on the host kernel
	Report   string // Markdown matrix to write; empty for none
}

// RunMatrix fetches the kernels, boots each twice (default and
// syscall.x32=y), evaluates every run and writes the report. ok is false
// when any run failed; err is for failures to set the matrix up at all.
func RunMatrix(ctx context.Context, cfg Config, progress io.Writer) (runs []*Run, ok bool, err error) {
	start := time.Now()
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return nil, false, fmt.Errorf("qemu-system-x86_64 not found (integration/vm/install-deps.sh installs it): %w", err)
	}
	if err := os.MkdirAll(filepath.Join(cfg.OutDir, "logs"), 0o755); err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(filepath.Join(cfg.CacheDir, "kernels"), 0o755); err != nil {
		return nil, false, err
	}
	kernels, err := Fetch(cfg.CacheDir, cfg.Mirror, cfg.Kernels, progress)
	if err != nil {
		return nil, false, err
	}
	fmt.Fprintf(progress, "kernels ready after %.1fs\n", time.Since(start).Seconds())
	initrd := filepath.Join(cfg.OutDir, "initramfs.cpio.gz")
	if err := BuildInitramfs(cfg.Payload, initrd); err != nil {
		return nil, false, err
	}
	if st, err := os.Stat(initrd); err == nil {
		fmt.Fprintf(progress, "initramfs: %s (%.1f MB)\n", initrd, float64(st.Size())/1e6)
	}
	accel := ChooseAccel(cfg.Accel)
	fmt.Fprintf(progress, "qemu accel: %s (%s)\n", accel.Name, accel.Reason)

	if cfg.Host {
		h := RunHost(ctx, cfg.Payload, cfg.Timeout, filepath.Join(cfg.OutDir, "logs"))
		h.Evaluate()
		PrintRun(progress, h)
		runs = append(runs, h)
	}
	opts := BootOptions{Qemu: qemu, Accel: accel, Initrd: initrd, Memory: "1024", Timeout: cfg.Timeout,
		LogDir: filepath.Join(cfg.OutDir, "logs"), Machine: cfg.Machine}
	type job struct {
		k   Kernel
		x32 bool
	}
	var jobs []job
	for _, k := range kernels {
		jobs = append(jobs, job{k, false}, job{k, true})
	}
	// Workers take the boots in order, so that progress reads kernel by
	// kernel.
	boots := make([]*Run, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	bootStart := time.Now()
	for w := 0; w < max(cfg.Jobs, 1); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := Boot(ctx, jobs[i].k, jobs[i].x32, opts, lockedWriter{&mu, progress})
				r.Evaluate()
				mu.Lock()
				PrintRun(progress, r)
				mu.Unlock()
				boots[i] = r
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	fmt.Fprintf(progress, "%d boots in %.1fs (%d at a time)\n", len(jobs), time.Since(bootStart).Seconds(), max(cfg.Jobs, 1))
	runs = append(runs, boots...)

	ok = true
	for _, r := range runs {
		ok = ok && len(r.Failures) == 0
	}
	if cfg.Report != "" {
		var buf bytes.Buffer
		WriteReport(&buf, ReportInfo{Date: time.Now(), Qemu: qemuVersion(qemu), Accel: accel, Machine: orDefault(cfg.Machine, "pc"),
			Host: hostRelease(), Wall: time.Since(start), Jobs: max(cfg.Jobs, 1)}, runs)
		if err := os.WriteFile(cfg.Report, buf.Bytes(), 0o644); err != nil {
			return runs, false, err
		}
		fmt.Fprintf(progress, "matrix written to %s\n", cfg.Report)
	}
	fmt.Fprintf(progress, "total %.1fs\n", time.Since(start).Seconds())
	return runs, ok, nil
}

// PrintRun prints one finished run: a line, and on failure the reasons and
// the end of its output.
func PrintRun(w io.Writer, r *Run) {
	status := "PASS"
	if len(r.Failures) > 0 {
		status = "FAIL"
	}
	i386 := "off"
	if r.HostABIs[abiI386] {
		i386 = "live"
	}
	fmt.Fprintf(w, "done %-18s %-28s boot %5.1fs tests %5.1fs i386=%-4s (tests ran %d, skipped %d) x32=%-4s bypasses naive=%d x86_64-only=%d all-arches=%d  %s\n",
		r.Name, r.Uname, r.BootTime.Seconds(), r.TestTime.Seconds(), i386, r.ABIRan[abiI386], r.ABISkip[abiI386], r.X32,
		r.Bypasses("naive-bpf"), r.Bypasses("sysgate-x86_64-only"), r.Bypasses("sysgate-all-arches"), status)
	for _, f := range r.Failures {
		fmt.Fprintf(w, "     %s: %s\n", r.Name, f)
	}
	if len(r.Failures) > 0 {
		for _, l := range r.Tail {
			fmt.Fprintf(w, "     | %s\n", l)
		}
	}
	for _, name := range r.Order {
		if r.Tests[name].Status == "FAIL" {
			fmt.Fprintf(w, "     %s: --- FAIL: %s\n", r.Name, name)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func qemuVersion(qemu string) string {
	out, err := exec.Command(qemu, "--version").Output()
	if err != nil {
		return "qemu (version unknown)"
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(first)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
