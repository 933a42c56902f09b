package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/integration/stats"
	"github.com/sysgate/sysgate/spec/profile"

	"github.com/sysgate/sysgate/conformance/probe"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/bpf"
)

const loaderFlag = "-sysgate-bench-loader"

// loaderMain loads a raw program (BPF-FILE FLAGS -- COMMAND...) and execs
// COMMAND under it.
func loaderMain(args []string) int {
	runtime.LockOSThread()
	raw, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 125
	}
	insns, err := bpf.Decode(raw)
	flags, _ := strconv.ParseUint(args[1], 10, 32)
	if err == nil {
		_, err = filter.Load(&filter.Program{Instructions: insns, Flags: uint(flags)}, filter.LoadOptions{NoNewPrivs: true})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 125
	}
	err = syscall.Exec(args[3], args[3:], os.Environ())
	fmt.Fprintln(os.Stderr, err)
	return 126
}

type syscallCase struct {
	name string
	nr   int
	args []string
}

// syscallSection measures the CPU time of one syscall made by the probe
// with no filter, with the filter runc 1.1.5 loads for containerd's
// RuntimeDefault (libseccomp's linear layout of all three arches, plus the
// ENOSYS stub), and with sysgate's (binary tree per arch, same stub).
func syscallSection(reps, calls int) (string, error) {
	head := "## Cost of one syscall (ns of CPU, x86_64)\n\n"
	dir, err := os.MkdirTemp("", "sysgate-bench-")
	if err != nil {
		return head, err
	}
	defer os.RemoveAll(dir)
	probePath, err := probe.Build(dir)
	if err != nil {
		return head, err
	}
	profile := profile.RuntimeDefault(profile.DefaultCapabilities)
	// log_denials' SECCOMP_FILTER_FLAG_LOG changes nothing for an allowed
	// call (the kernel logs only on a non-ALLOW outcome); the last variant
	// measures that. An ENOSYS-stub outcome is an ERRNO, which the flag
	// does log.
	logged := *profile
	logged.Flags = []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagSpecAllow, specs.LinuxSeccompFlagLog}
	variants := []struct {
		name    string
		opts    *filter.Options
		profile *specs.LinuxSeccomp
	}{
		{"unfiltered", nil, nil},
		{"runc's filter (linear, joint)", &filter.Options{Optimize: filter.OptimizeLinear, Joint: true}, profile},
		{"sysgate's filter (tree, per arch)", &filter.Options{}, profile},
		{"sysgate's, with FLAG_LOG", &filter.Options{}, &logged},
	}
	wraps := make([][]string, len(variants))
	for i, v := range variants {
		if v.opts == nil {
			continue
		}
		prog, err := filter.Compile(v.profile, *v.opts)
		if err != nil {
			return head, err
		}
		path := filepath.Join(dir, fmt.Sprintf("filter%d.bpf", i))
		if err := os.WriteFile(path, prog.Bytes(), 0o600); err != nil {
			return head, err
		}
		self, _ := os.Executable()
		wraps[i] = []string{self, loaderFlag, path, strconv.FormatUint(uint64(prog.Flags), 10), "--"}
	}
	cases := []syscallCase{
		{"getppid (always allowed: kernel-cached)", 110, nil},
		{"personality(0xffffffff) (argument-checked)", 135, []string{"0xffffffff"}},
		{"nr 1000 (unknown: ENOSYS stub)", 1000, nil},
	}
	// results[case][variant] = per-repetition ns per call
	results := make([][][]float64, len(cases))
	for c := range cases {
		results[c] = make([][]float64, len(variants))
	}
	for r := 0; r < reps; r++ {
		for c, sc := range cases {
			for v := range variants {
				if v == len(variants)-1 && sc.nr == 1000 {
					// Every call would be an audit record: a million
					// records flood the kernel log and measure audit.
					continue
				}
				ns, err := perCall(probePath, wraps[v], sc, calls)
				if err != nil {
					return head, err
				}
				results[c][v] = append(results[c][v], ns)
			}
		}
	}
	header := []string{"syscall"}
	for _, v := range variants {
		header = append(header, v.name)
	}
	header = append(header, "runc / unfiltered", "sysgate / unfiltered", "FLAG_LOG / without")
	var rows [][]string
	for c, sc := range cases {
		row := []string{sc.name}
		for v := range variants {
			if len(results[c][v]) == 0 {
				row = append(row, "(logged: not measured)")
				continue
			}
			row = append(row, f1(stats.Median(results[c][v])))
		}
		logRatio := "-"
		if len(results[c][3]) > 0 {
			logRatio = f2(stats.Median(pairedRatios(results[c][3], results[c][2])))
		}
		row = append(row, f2(stats.Median(pairedRatios(results[c][1], results[c][0]))), f2(stats.Median(pairedRatios(results[c][2], results[c][0]))), logRatio)
		rows = append(rows, row)
	}
	return head + table(header, rows), nil
}

// perCall runs the probe twice, with calls and with one call, and divides
// the difference in CPU time, which removes the cost of starting it.
func perCall(probePath string, wrap []string, sc syscallCase, calls int) (float64, error) {
	cpu := func(n int) (time.Duration, error) {
		argv := append(append([]string{}, wrap...), probePath, "--repeat", strconv.Itoa(n), strconv.Itoa(sc.nr))
		argv = append(argv, sc.args...)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = nil, os.Stderr
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("%v: %w", argv, err)
		}
		return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
	}
	many, err := cpu(calls)
	if err != nil {
		return 0, err
	}
	one, err := cpu(1)
	if err != nil {
		return 0, err
	}
	return float64(many-one) / float64(calls-1), nil
}
