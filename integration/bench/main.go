// Command bench is `make bench`: one run that measures, side by side, what
// a seccomp filter costs per syscall, what compiling one costs, and what a
// container start costs through sysgate-runc, and writes a report with
// medians and paired ratios (each repetition runs every variant, in turn,
// and ratios are medians of per-repetition ratios, which holds up on a
// shared machine).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// The main goroutine keeps the main thread, whose mount namespace is the
// one /proc/<pid> shows: the crun rows run on another thread with a private
// one (containers.go), and the helper judges a client by /proc/<pid>.
func init() { runtime.LockOSThread() }

func main() {
	if len(os.Args) > 1 && os.Args[1] == loaderFlag {
		os.Exit(loaderMain(os.Args[2:]))
	}
	out := flag.String("out", "", "also write the report to this file")
	reps := flag.Int("reps", 7, "repetitions of every measurement")
	calls := flag.Int("calls", 1000000, "syscalls per per-syscall measurement")
	containers := flag.Int("containers", 15, "container starts per variant")
	bin := flag.String("bin", "bin", "directory with sysgate-runc")
	only := flag.String("only", "", "run one section: syscalls, compile or containers (default: all)")
	flag.Parse()

	var report bytes.Buffer
	host, _ := os.Hostname()
	fmt.Fprintf(&report, "# sysgate benchmarks\n\n%s, host %s, %d CPUs, kernel %s, %s.\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), host, runtime.NumCPU(), kernelRelease(), cpuModel())
	fmt.Fprintf(&report, "Medians of %d repetitions; ratios are medians of per-repetition ratios.\n", *reps)

	sections := []struct {
		name string
		run  func() (string, error)
	}{
		{"syscalls", func() (string, error) { return syscallSection(*reps, *calls) }},
		{"compile", func() (string, error) { return compileSection(*reps * 3) }},
		{"containers", func() (string, error) { return containerSection(*bin, *containers) }},
	}
	failed := false
	for _, s := range sections {
		if *only != "" && *only != s.name {
			continue
		}
		section := s.run
		text, err := section()
		report.WriteString("\n" + text)
		if err != nil {
			fmt.Fprintf(&report, "\n**not measured:** %v\n", err)
			failed = true
		}
	}
	os.Stdout.Write(report.Bytes())
	if *out != "" {
		// What `make bench-cri` measured is written by hand below the
		// marker (it is a go test benchmark); a new report keeps it.
		if old, err := os.ReadFile(*out); err == nil {
			if i := bytes.Index(old, []byte(keptMarker)); i >= 0 {
				report.WriteString("\n" + string(old[i:]))
			}
		}
		if err := os.WriteFile(*out, report.Bytes(), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	}
	if failed {
		os.Exit(1)
	}
}

// keptMarker starts the part of the report file that make bench keeps.
const keptMarker = "<!-- kept by make bench -->"

func kernelRelease() string {
	data, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(data))
}

func cpuModel() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
