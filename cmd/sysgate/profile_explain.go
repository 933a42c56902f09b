package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter"
)

func runExplain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("profile explain", "[--arch A] [--syscall NAME] [--output text|json] FILE", stdout)
	archName := fs.String("arch", "", "explain only this architecture (x86_64, x86, x32, or aarch64, arm: an arm64 node's filter, on any host); default: every architecture the filter covers")
	syscall := fs.String("syscall", "", "explain only this syscall")
	output := outputFlag(fs)
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	if len(files) != 1 {
		return fmt.Errorf("%w: name exactly one profile file", errUsage)
	}
	var opts filter.Options
	var only []specs.Arch
	if *archName != "" {
		if only, err = parseArches(*archName); err != nil {
			return err
		}
		if opts.Machine, err = machineOf(only); err != nil {
			return err
		}
	}
	profile, prog, err := compileFile(files[0], opts, stderr)
	if err != nil {
		return err
	}
	archList := prog.Arches
	if only != nil {
		archList = only
	}

	var all []filter.Explanation
	for _, arch := range archList {
		var ex []filter.Explanation
		ex, err = filter.Explain(prog, profile, arch, *syscall)
		if err != nil {
			return err
		}
		all = append(all, ex...)
	}
	if *output == "json" {
		return writeJSON(stdout, all)
	}
	return printExplanations(stdout, all)
}

func printExplanations(w io.Writer, all []filter.Explanation) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ARCH\tSYSCALL\tNR\tACTION\tKERNEL CACHE\tNOTE")
	cached := map[specs.Arch][2]int{}
	for _, e := range all {
		action := e.Action
		if len(e.Actions) > 1 {
			action = fmt.Sprintf("%s: %v", e.Action, e.Actions)
		}
		c := cached[e.Arch]
		c[1]++
		cache := "-"
		if e.KernelCached {
			cache = "cached"
			c[0]++
		}
		cached[e.Arch] = c
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", shortArch(e.Arch), e.Syscall, e.Nr, action, cache, note(e))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, arch := range []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchAARCH64, specs.ArchARM} {
		if c, ok := cached[arch]; ok && c[1] > 1 {
			fmt.Fprintf(w, "%s: the kernel's action cache answers %d of %d syscalls without running the filter\n", shortArch(arch), c[0], c[1])
		}
	}
	return nil
}

// note says when sysgate, not libseccomp, filters a syscall: it is newer
// than the linked libseccomp, and sysgate filters it by its number.
func note(e filter.Explanation) string {
	switch {
	case e.KernelLacks:
		return "by number; this kernel lacks it"
	case e.ByNumber:
		return "by number"
	}
	return ""
}

func shortArch(a specs.Arch) string {
	switch a {
	case specs.ArchX86_64:
		return "x86_64"
	case specs.ArchX86:
		return "x86"
	case specs.ArchX32:
		return "x32"
	case specs.ArchAARCH64:
		return "aarch64"
	case specs.ArchARM:
		return "arm"
	}
	return string(a)
}
