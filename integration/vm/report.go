package vm

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// ReportInfo is the context printed above the tables.
type ReportInfo struct {
	Date    time.Time
	Qemu    string // qemu --version, first line
	Accel   Accel
	Machine string
	Host    string // host kernel release
	Wall    time.Duration
	Jobs    int
}

var abiFilters = []string{"naive-bpf", "sysgate-x86_64-only", "sysgate-all-arches", "none"}
var abiPaths = []string{"x86_64", "int80", "x32", "i386-binary"}

func runStatus(r *Run) string {
	if len(r.Failures) == 0 {
		return "PASS"
	}
	return "FAIL: " + strings.Join(r.Failures, "; ")
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// WriteReport writes the matrix as Markdown: runs and timings, bypasses per
// filter, every ABI cell, every case × run, and one table per kernel.
func WriteReport(w io.Writer, info ReportInfo, runs []*Run) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("# Kernel matrix\n\n")
	p("Written by `make test-vm` (`integration/vm`, command `sysgate-vm`) on %s UTC. ", info.Date.UTC().Format("2006-01-02 15:04"))
	p("Guests: %s, `-accel %s -cpu %s` (%s), `-M %s -smp 1`, %d boots in parallel; ", info.Qemu, info.Accel.Name, info.Accel.CPU, info.Accel.Reason, info.Machine, info.Jobs)
	p("host kernel %s. Wall time of the whole run: %.0f s. How to read this file: README.md, section \"Kernel matrix\".\n\n", info.Host, info.Wall.Seconds())

	p("## Runs\n\n")
	p("| run | kernel (`uname -r`) | Debian package | suite | i386 | i386 tests run / skipped | x32 | boot s | tests s | result |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range runs {
		pkg, suite := "-", "-"
		if r.Kernel != nil {
			pkg, suite = r.Kernel.Spec.Meta+" "+r.Kernel.Version, r.Kernel.Spec.Suite
		}
		boot := "-"
		if r.Kernel != nil && r.Begun {
			boot = fmt.Sprintf("%.1f", r.BootTime.Seconds())
		}
		i386 := "-"
		if live, ok := r.HostABIs[abiI386]; ok {
			i386 = map[bool]string{true: "live", false: "off"}[live]
		}
		p("| %s | %s | %s | %s | %s | %d / %d | %s | %s | %.1f | %s |\n", r.Name, cell(r.Uname), pkg, suite, i386,
			r.ABIRan[abiI386], r.ABISkip[abiI386], r.X32, boot, r.TestTime.Seconds(), cell(runStatus(r)))
	}

	p("\n## ABI bypasses per filter\n\n")
	p("Bypasses of a filter that blocks mkdir (the call succeeded and the directory exists), over the four paths ")
	p("x86_64 `syscall`, `int $0x80`, x32 and a real i386 binary. `naive-bpf` is the control: it must be bypassed through ")
	p("every foreign path the kernel offers (2 where IA-32 is live, 3 with x32 too, 0 on a host with neither, where the ")
	p("i386 paths do not exist and the \"i386\" columns above say so).\n\n")
	header(w, "filter", runs)
	for _, f := range abiFilters[:3] {
		p("| %s |", f)
		for _, r := range runs {
			if len(r.ABI) == 0 {
				p(" - |")
			} else {
				p(" %d |", r.Bypasses(f))
			}
		}
		p("\n")
	}

	p("\n## ABI cells\n\n")
	p("Outcome of mkdir per filter and path; **BYPASS** marks a blocked call that got through.\n\n")
	header(w, "filter / path", runs)
	for _, f := range abiFilters {
		for _, path := range abiPaths {
			p("| %s / %s |", f, path)
			for _, r := range runs {
				c, ok := r.ABI[f+" "+path]
				switch {
				case !ok:
					p(" - |")
				case c.Bypass:
					p(" **BYPASS** %s |", c.Outcome)
				default:
					p(" %s |", c.Outcome)
				}
			}
			p("\n")
		}
	}

	cases := caseOrder(runs)
	p("\n## Cases × kernels\n\n")
	p("`go test -v` verdicts of the filter package's kernel tests (`-run '^TestKernel'`), two levels deep. ")
	p("Skip reasons follow the table.\n\n")
	header(w, "case", runs)
	for _, c := range cases {
		p("| %s |", cell(c))
		for _, r := range runs {
			p(" %s |", verdict(r, c))
		}
		p("\n")
	}
	skips := skipReasons(runs, cases)
	if len(skips) > 0 {
		p("\nSkips:\n\n")
		for _, s := range skips {
			p("- %s\n", s)
		}
	}

	p("\n## Per kernel\n")
	for _, group := range byKernel(runs) {
		first := group[0]
		if first.Kernel != nil {
			p("\n### %s: %s (%s %s from %s)\n\n", first.Kernel.Spec.Label, first.Kernel.ABI, first.Kernel.Spec.Meta, first.Kernel.Version, first.Kernel.Spec.Suite)
		} else {
			p("\n### %s: %s\n\n", first.Name, first.Uname)
		}
		header(w, "case", group)
		for _, c := range cases {
			p("| %s |", cell(c))
			for _, r := range group {
				p(" %s |", verdict(r, c))
			}
			p("\n")
		}
	}
}

func header(w io.Writer, first string, runs []*Run) {
	fmt.Fprintf(w, "| %s |", first)
	for _, r := range runs {
		fmt.Fprintf(w, " %s |", r.Name)
	}
	fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---|", len(runs)))
}

func verdict(r *Run, c string) string {
	t, ok := r.Tests[c]
	if !ok {
		return "-"
	}
	if t.Status == "FAIL" {
		return "**FAIL**"
	}
	return t.Status
}

func caseOrder(runs []*Run) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range runs {
		for _, c := range r.Order {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	// Keep each test's subtests under it, whatever order runs listed them.
	sort.SliceStable(out, func(i, j int) bool {
		return strings.SplitN(out[i], "/", 2)[0] < strings.SplitN(out[j], "/", 2)[0]
	})
	return out
}

func skipReasons(runs []*Run, cases []string) []string {
	var out []string
	for _, c := range cases {
		byReason := map[string][]string{}
		var reasons []string
		for _, r := range runs {
			if t := r.Tests[c]; t.Status == "SKIP" {
				if _, ok := byReason[t.Reason]; !ok {
					reasons = append(reasons, t.Reason)
				}
				byReason[t.Reason] = append(byReason[t.Reason], r.Name)
			}
		}
		for _, reason := range reasons {
			out = append(out, fmt.Sprintf("%s on %s: %s", c, strings.Join(byReason[reason], ", "), reason))
		}
	}
	return out
}

func byKernel(runs []*Run) [][]*Run {
	var out [][]*Run
	index := map[string]int{}
	for _, r := range runs {
		key := r.Name
		if r.Kernel != nil {
			key = r.Kernel.Spec.Label
		}
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], r)
	}
	return out
}
