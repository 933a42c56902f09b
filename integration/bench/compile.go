package main

import (
	"os"
	"strconv"
	"time"

	"github.com/sysgate/sysgate/integration/stats"
	"github.com/sysgate/sysgate/spec/profile"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter"
)

// compileSection times turning containerd's RuntimeDefault (x86_64, x86,
// x32) into a program: libseccomp's joint export (what runc and crun pay at
// every start), sysgate's per-arch compile, and a hit in sysgate's cache.
func compileSection(reps int) (string, error) {
	head := "## Compiling containerd's RuntimeDefault for x86_64, x86 and x32 (ms, in process)\n\n"
	profile := profile.RuntimeDefault(profile.DefaultCapabilities)
	dir, err := os.MkdirTemp("", "sysgate-bench-cache-")
	if err != nil {
		return head, err
	}
	defer os.RemoveAll(dir)
	cache := &filter.Cache{Dir: dir}
	if _, _, err := cache.Compile(profile, filter.Options{}); err != nil {
		return head, err
	}
	variants := []struct {
		name string
		run  func() (int, error)
	}{
		{"libseccomp joint export, linear (runc, crun)", compileWith(profile, filter.Options{Optimize: filter.OptimizeLinear, Joint: true})},
		{"libseccomp joint export, tree", compileWith(profile, filter.Options{Joint: true})},
		{"sysgate cold compile (tree, per arch, parallel)", compileWith(profile, filter.Options{})},
		{"sysgate cache hit", func() (int, error) {
			prog, ok := cache.Lookup(profile, filter.Options{})
			if !ok {
				return 0, os.ErrNotExist
			}
			return len(prog.Instructions), nil
		}},
	}
	times := make([][]float64, len(variants))
	insns := make([]int, len(variants))
	for r := 0; r < reps; r++ {
		for i, v := range variants {
			start := time.Now()
			n, err := v.run()
			if err != nil {
				return head, err
			}
			times[i] = append(times[i], float64(time.Since(start).Microseconds())/1000)
			insns[i] = n
		}
	}
	var rows [][]string
	for i, v := range variants {
		rows = append(rows, []string{v.name, f2(stats.Median(times[i])), f2(stats.Median(pairedRatios(times[i], times[0]))), strconv.Itoa(insns[i])})
	}
	return head + table([]string{"variant", "ms", "ratio to the joint linear export", "instructions"}, rows), nil
}

func compileWith(profile *specs.LinuxSeccomp, opts filter.Options) func() (int, error) {
	return func() (int, error) {
		prog, err := filter.Compile(profile, opts)
		if err != nil {
			return 0, err
		}
		return len(prog.Instructions), nil
	}
}
