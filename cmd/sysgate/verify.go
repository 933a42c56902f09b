package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/sysgate/sysgate/conformance/node"
	"github.com/sysgate/sysgate/conformance/verify"
	"github.com/sysgate/sysgate/spec"
)

// In text, a group of differences names at most maxWhere syscalls or
// runs, and at most maxArgLines differences for some arguments are
// printed; JSON lists them all.
const (
	maxWhere    = 12
	maxArgLines = 20
)

// runVerify reads the filters the kernel holds for a container's threads
// and compares them with the filter sysgate decided.
func runVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", "[--all] [--output text|json] [--config FILE] [PID|CONTAINER]", stdout)
	all := fs.Bool("all", false, "verify every container on the node; exit 1 if any differs or cannot be verified")
	config := fs.String("config", spec.PolicyPath(), "the node policy file (its decision_log and cache_dir are read)")
	output := outputFlag(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	switch {
	case *all && len(rest) > 0:
		return fmt.Errorf("%w: give --all or a PID or CONTAINER, not both", errUsage)
	case !*all && len(rest) != 1:
		return fmt.Errorf("%w: name one PID or CONTAINER (an id or a unique prefix of one), or give --all", errUsage)
	}
	if err := needRoot("verify"); err != nil {
		return err
	}
	policy, err := spec.LoadPolicy(*config)
	if err != nil {
		return err
	}
	opts := verify.Options{Policy: policy, AllThreads: true}
	target := ""
	if !*all {
		target = rest[0]
		if pid, err := strconv.Atoi(target); err == nil && pid > 0 {
			opts.OnlyPID = pid
			opts.Select = func(c *node.Container) bool {
				return slices.ContainsFunc(c.Processes, func(t node.Task) bool { return t.TID == pid })
			}
		} else {
			opts.Select = func(c *node.Container) bool { return c.ID != "" && strings.HasPrefix(c.ID, target) }
		}
	}
	res, err := verify.Run(opts)
	if err != nil {
		return err
	}
	reports := res.Reports
	if !*all {
		if reports, err = oneTarget(target, opts.OnlyPID, reports); err != nil {
			return err
		}
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "sysgate verify: warning: %s\n", w)
	}
	if *output == "json" {
		if err := writeJSON(stdout, psReport{Containers: reports, Summary: verifySummary(reports), Warnings: res.Warnings}); err != nil {
			return err
		}
	} else {
		for _, r := range reports {
			printVerification(stdout, r)
		}
		if *all {
			fmt.Fprintln(stdout, verifySummary(reports))
		}
	}
	failed := verify.Failed(reports)
	if !*all && reports[0].Status == verify.StatusNotDecided {
		// Asked about one container, verify cannot call it verified.
		failed = true
	}
	if failed {
		return exitError(exitFailure)
	}
	return nil
}

// oneTarget narrows the reports to the one container the user named: an
// exact id wins over prefixes, and a prefix must be unique.
func oneTarget(target string, pid int, reports []*verify.Report) ([]*verify.Report, error) {
	if len(reports) == 0 {
		if pid != 0 {
			return nil, fmt.Errorf("process %d is not in a container (it is not a process of this node, or it runs in the host's PID namespace in no container cgroup); give the pid of a container's process (a thread group leader)", pid)
		}
		return nil, fmt.Errorf("no running container has an id starting with %q (sysgate ps lists them)", target)
	}
	for _, r := range reports {
		if r.ID == target {
			return []*verify.Report{r}, nil
		}
	}
	if len(reports) > 1 {
		var ids []string
		for _, r := range reports {
			ids = append(ids, r.ID)
		}
		return nil, fmt.Errorf("%q names %d containers (%s); give more of the id", target, len(reports), strings.Join(ids, ", "))
	}
	return reports, nil
}

// verifySummary counts the outcomes.
func verifySummary(reports []*verify.Report) string {
	counts := map[verify.Status]int{}
	for _, r := range reports {
		counts[r.Status]++
	}
	return fmt.Sprintf("%d containers: %d hold the decided filter, %d differ, %d could not be verified, %d not decided by sysgate",
		len(reports), counts[verify.StatusEqual], counts[verify.StatusDiffers], counts[verify.StatusUnverified], counts[verify.StatusNotDecided])
}

func printVerification(w io.Writer, r *verify.Report) {
	who := shortID(r)
	if r.Namespace != "" || r.Name != "" {
		who += fmt.Sprintf(" (%s/%s %s)", r.Namespace, r.Pod, r.Name)
	}
	fmt.Fprintf(w, "container %s, init pid %d\n", who, r.InitPID)
	if d := r.Decision; d != nil {
		fmt.Fprintf(w, "  decided:  %s %s (%s), digest %s, from the %s\n", d.Type, d.Ref, d.Source, dash(d.Digest), d.Evidence)
	}
	switch r.Status {
	case verify.StatusEqual:
		fmt.Fprintf(w, "  verified: installed filter equals the decided one (%d thread(s) checked; %s)\n", r.Checked, r.Matched)
	case verify.StatusNotDecided:
		fmt.Fprintf(w, "  not decided: %s; seccomp %s with %d filter(s)\n", r.Problem, r.Seccomp, r.Filters)
	default:
		fmt.Fprintf(w, "  %s: %s\n", strings.ToUpper(string(r.Status)), r.Problem)
	}
	for _, t := range r.Threads {
		if t.Error != "" {
			fmt.Fprintf(w, "  thread %d (pid %d): cannot verify: %s\n", t.TID, t.PID, t.Error)
			continue
		}
		c := t.Comparison
		fmt.Fprintf(w, "  thread %d (pid %d): %d filter(s) installed\n", t.TID, t.PID, c.Filters)
		for _, f := range c.Findings {
			fmt.Fprintf(w, "    %s\n", f)
		}
		printDifferences(w, c.Differences)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}

// printDifferences prints one line per ABI and pair of verdicts, then the
// differences that hold for some arguments only.
func printDifferences(w io.Writer, diffs []verify.Difference) {
	groups, perArgs := verify.GroupDifferences(diffs)
	for _, g := range groups {
		where := g.Where
		more := ""
		if len(where) > maxWhere {
			more = fmt.Sprintf(", ... (%d more)", len(where)-maxWhere)
			where = where[:maxWhere]
		}
		fmt.Fprintf(w, "    %s, %d syscall number(s): installed %s, decided %s: %s%s\n", g.ABI, g.Count, g.Installed, g.Decided, strings.Join(where, ", "), more)
	}
	for i, d := range perArgs {
		if i == maxArgLines {
			fmt.Fprintf(w, "    ... and %d more differences for some arguments (--output json lists them all)\n", len(perArgs)-i)
			break
		}
		fmt.Fprintf(w, "    %s\n", d)
	}
}
