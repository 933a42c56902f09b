package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sysgate/sysgate/integration/vm"
)

func main() {
	cache := flag.String("cache", envOr("SYSGATE_VM_CACHE", "/var/cache/sysgate-vm"), "kernels and private apt state, kept between runs ($SYSGATE_VM_CACHE)")
	mirror := flag.String("mirror", envOr("SYSGATE_VM_MIRROR", "http://deb.debian.org/debian"), "Debian archive to fetch kernels from ($SYSGATE_VM_MIRROR)")
	payload := flag.String("payload", "", "directory with the static filter.test, probe.test, denials.test, kernel-tests.sh, sysgate-probe and mkdir32")
	busybox := flag.String("busybox", "/bin/busybox", "static busybox for the initramfs (Debian package busybox-static)")
	out := flag.String("out", "", "work directory for the initramfs and serial logs (default: PAYLOAD/run)")
	reportPath := flag.String("report", "", "write the Markdown matrix here (e.g. docs/kernel-matrix.md)")
	kernels := flag.String("kernels", envOr("SYSGATE_VM_KERNELS", ""), "comma-separated labels to boot (default: all of "+labels()+") ($SYSGATE_VM_KERNELS)")
	jobs := flag.Int("jobs", 2, "boots at once; each guest has one vCPU")
	timeout := flag.Duration("timeout", 5*time.Minute, "limit per boot (and for the host run)")
	accel := flag.String("accel", envOr("SYSGATE_VM_ACCEL", "auto"), "auto, kvm or tcg ($SYSGATE_VM_ACCEL)")
	machine := flag.String("machine", "pc", "qemu machine: pc (bzImage through SeaBIOS) or microvm")
	host := flag.Bool("host", true, "also run the tests on the host kernel")
	conformanceOut := flag.String("conformance", "", "instead of the matrix, run the conformance suite's four targets in one guest and write the reference reports to this directory (e.g. docs/conformance); -bin and -conformance-src give its inputs")
	conformanceKernel := flag.String("conformance-kernel", "6.12", "the kernel the conformance guest boots, with syscall.x32=y")
	bin := flag.String("bin", "bin", "with -conformance: the static sysgate, sysgate-runc and sysgate-probe")
	conformanceSrc := flag.String("conformance-src", "conformance", "with -conformance: the repository's conformance/ directory")
	parse := flag.Bool("parse", false, "judge saved console logs (arguments) instead of booting, e.g. the Vagrant guests' output")
	flag.Parse()
	if *parse {
		os.Exit(parseLogs(flag.Args(), *reportPath))
	}
	if *conformanceOut != "" {
		os.Exit(runConformance(*conformanceOut, *conformanceKernel, *bin, *conformanceSrc, *busybox, *cache, *mirror, *out, *accel, *timeout))
	}
	if *payload == "" {
		fmt.Fprintln(os.Stderr, "sysgate-vm: -payload is required")
		os.Exit(2)
	}
	specs, err := selectKernels(*kernels)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sysgate-vm:", err)
		os.Exit(2)
	}
	// The host run starts filter.test from a temporary directory.
	if abs, err := filepath.Abs(*payload); err == nil {
		*payload = abs
	}
	if *out == "" {
		*out = filepath.Join(*payload, "run")
	}
	if *accel == "auto" {
		*accel = ""
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := vm.Config{
		CacheDir: *cache, Mirror: *mirror, Kernels: specs, OutDir: *out, Jobs: *jobs, Timeout: *timeout,
		Accel: *accel, Machine: *machine, Host: *host, Report: *reportPath,
		Payload: vm.Payload{
			Busybox:    *busybox,
			FilterTest: filepath.Join(*payload, "filter.test"),
			ProbeTest:  filepath.Join(*payload, "probe.test"),
			DenialTest: filepath.Join(*payload, "denials.test"),
			Script:     filepath.Join(*payload, "kernel-tests.sh"),
			Probe:      filepath.Join(*payload, "sysgate-probe"),
			Mkdir32:    filepath.Join(*payload, "mkdir32"),
		},
	}
	_, ok, err := vm.RunMatrix(ctx, cfg, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sysgate-vm:", err)
		os.Exit(2)
	}
	if !ok {
		fmt.Println("sysgate-vm: FAIL (details above; serial logs in " + filepath.Join(*out, "logs") + ")")
		os.Exit(1)
	}
	fmt.Println("sysgate-vm: PASS")
}

// parseLogs judges logs written by guest_init.sh or vagrant/guest-test.sh,
// one run per file, named after the file.
func parseLogs(paths []string, reportPath string) int {
	if len(paths) == 0 {
		fmt.Fprintln(os.Stderr, "sysgate-vm: -parse needs log files")
		return 2
	}
	var runs []*vm.Run
	ok := true
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sysgate-vm:", err)
			return 2
		}
		r := &vm.Run{Name: strings.TrimSuffix(filepath.Base(path), ".log")}
		st, _ := f.Stat()
		r.Parse(f, st.ModTime(), func() time.Time { return st.ModTime() })
		f.Close()
		ok = r.Evaluate() && ok
		vm.PrintRun(os.Stdout, r)
		runs = append(runs, r)
	}
	if reportPath != "" {
		var b strings.Builder
		vm.WriteReport(&b, vm.ReportInfo{Date: time.Now(), Qemu: "-", Accel: vm.Accel{Name: "-", CPU: "-", Reason: "saved logs"}, Machine: "-", Jobs: 1}, runs)
		if err := os.WriteFile(reportPath, []byte(b.String()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "sysgate-vm:", err)
			return 2
		}
		fmt.Println("matrix written to", reportPath)
	}
	if !ok {
		fmt.Println("sysgate-vm: FAIL")
		return 1
	}
	fmt.Println("sysgate-vm: PASS")
	return 0
}

// runConformance boots the conformance guest and writes the reference
// reports.
func runConformance(reports, kernel, bin, src, busybox, cache, mirror, out, accel string, timeout time.Duration) int {
	specs, err := selectKernels(kernel)
	if err != nil || len(specs) != 1 {
		fmt.Fprintln(os.Stderr, "sysgate-vm: -conformance-kernel:", err)
		return 2
	}
	if out == "" {
		out = filepath.Join(os.TempDir(), "sysgate-vm-conformance")
	}
	if accel == "auto" {
		accel = ""
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	cfg := vm.ConformanceConfig{
		CacheDir: cache, Mirror: mirror, Kernel: specs[0], OutDir: out, Timeout: max(timeout, 40*time.Minute), Accel: accel, Reports: reports,
		Payload: vm.ConformancePayload{Busybox: busybox, Bin: bin, ConformanceDir: src, Runtimes: []string{"/usr/sbin/runc", "/usr/bin/crun"}},
	}
	r, written, err := vm.RunConformance(ctx, cfg, os.Stdout)
	if r != nil {
		fmt.Printf("conformance guest %s (%s): boot %.1fs, suite %.1fs\n", r.Name, r.Uname, r.BootTime.Seconds(), r.TestTime.Seconds())
		if err != nil {
			for _, l := range r.Tail {
				fmt.Println("     |", l)
			}
		}
	}
	for _, w := range written {
		fmt.Println("wrote", w)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sysgate-vm:", err)
		fmt.Println("sysgate-vm: FAIL")
		return 1
	}
	fmt.Printf("sysgate-vm: PASS (conformance reference in %.0fs)\n", time.Since(start).Seconds())
	return 0
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func labels() string {
	var l []string
	for _, k := range vm.DefaultKernels {
		l = append(l, k.Label)
	}
	return strings.Join(l, ",")
}

func selectKernels(list string) ([]vm.KernelSpec, error) {
	if list == "" {
		return vm.DefaultKernels, nil
	}
	var out []vm.KernelSpec
	for _, want := range strings.Split(list, ",") {
		found := false
		for _, k := range vm.DefaultKernels {
			if k.Label == strings.TrimSpace(want) {
				out = append(out, k)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown kernel %q; known: %s", want, labels())
		}
	}
	return out, nil
}
