package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/sysgate/sysgate/conformance"
	"github.com/sysgate/sysgate/conformance/probe"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// runConformance runs the seccomp conformance suite against an OCI runtime.
func runConformance(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("conformance", "--runtime PATH [--runtime-arg ARG]... [--case GLOB]... [--output table|json|junit] [--expect-failures FILE] [--probe PATH] [--json FILE] [--reference FILE]", stdout)
	runtimePath := fs.String("runtime", "", "the OCI runtime to test (runc, crun, sysgate-runc, ...); required")
	var runtimeArgs, globs listFlag
	fs.Var(&runtimeArgs, "runtime-arg", "a global option for the runtime, before its command (repeatable)")
	fs.Var(&globs, "case", "run only cases whose names match this glob, e.g. 'action/*' (repeatable)")
	output := fs.String("output", "table", "output format: table (Markdown), json or junit")
	expectFailures := fs.String("expect-failures", "", "a file of the runtime's known deviations (case glob, reason per line): they are XFAIL, not FAIL")
	probePath := fs.String("probe", "", "the static sysgate-probe binary (default: $"+probe.PrebuiltEnv+", sysgate-probe next to sysgate, or built with gcc)")
	jsonPath := fs.String("json", "", "also write the report as JSON to this file")
	referencePath := fs.String("reference", "", "compare with a reference report (JSON, e.g. docs/conformance/runc.json): every case this run did not skip must have the reference's verdict and outcome")
	title := fs.String("title", "", "the report's title (default: the runtime's name)")
	workDir := fs.String("work-dir", "", "keep bundles and state here instead of a temporary directory")
	list := fs.Bool("list", false, "list the cases with their rules and expected outcomes, and run nothing")
	verbose := fs.Bool("v", false, "print each case's verdict to stderr as it finishes")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	switch *output {
	case "table", "json", "junit":
	default:
		return fmt.Errorf("%w: --output must be table, json or junit, not %q", errUsage, *output)
	}
	cases, err := conformance.Select(conformance.Cases(), globs)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *list {
		for _, c := range cases {
			fmt.Fprintf(stdout, "%-40s %-28s %s\n", c.Name, c.Want, c.Rule)
		}
		return nil
	}
	if *runtimePath == "" {
		return fmt.Errorf("%w: --runtime is required", errUsage)
	}
	rtPath, err := exec.LookPath(*runtimePath)
	if err != nil {
		return fmt.Errorf("--runtime: %w", err)
	}
	if rtPath, err = filepath.Abs(rtPath); err != nil {
		return err
	}
	var reference *conformance.Report
	if *referencePath != "" {
		if reference, err = conformance.LoadReport(*referencePath); err != nil {
			return fmt.Errorf("--reference: %w", err)
		}
	}
	var deviations conformance.Deviations
	if *expectFailures != "" {
		if deviations, err = conformance.LoadDeviations(*expectFailures); err != nil {
			return fmt.Errorf("--expect-failures: %w", err)
		}
		for _, glob := range deviations.Unmatched(conformance.Cases()) {
			fmt.Fprintf(stderr, "sysgate conformance: warning: %s: %q matches no case\n", *expectFailures, glob)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	probeBin, cleanup, err := findProbe(*probePath)
	if err != nil {
		return err
	}
	defer cleanup()

	r := &conformance.Runner{
		Runtime:    conformance.Runtime{Path: rtPath, Args: runtimeArgs},
		Probe:      probeBin,
		WorkDir:    *workDir,
		Deviations: deviations,
		Suite:      version,
	}
	if *verbose {
		r.Progress = func(res conformance.Result) {
			fmt.Fprintf(stderr, "%-5s %-40s observed %s\n", res.Verdict, res.Case, res.Observed)
		}
	}
	rep, err := r.Run(ctx, cases)
	if err != nil {
		return err
	}
	// Reports name the runtime as the user did, so that tables generated
	// in different checkouts compare equal.
	rep.Runtime = *runtimePath
	if *title == "" {
		*title = "sysgate conformance: " + filepath.Base(rtPath)
	}
	switch *output {
	case "json":
		err = rep.WriteJSON(stdout)
	case "junit":
		err = rep.WriteJUnit(stdout)
	default:
		err = rep.WriteTable(stdout, *title)
	}
	if err != nil {
		return err
	}
	if *jsonPath != "" {
		if err := writeReportJSON(*jsonPath, rep); err != nil {
			return err
		}
	}
	if *output != "table" {
		// Machine output on stdout; people still want the verdict.
		fmt.Fprintln(stderr, rep.SummaryLine())
	}
	differs := false
	if reference != nil {
		differs = reportComparison(stderr, conformance.Compare(rep, reference), *referencePath)
	}
	if rep.Failed() || differs {
		return exitError(exitFailure)
	}
	return nil
}

func writeReportJSON(path string, rep *conformance.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--json: %w", err)
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return fmt.Errorf("--json: %w", err)
	}
	return f.Close()
}

// reportComparison prints what differs from the reference and what could
// not be compared here, and reports whether anything differs.
func reportComparison(w io.Writer, c conformance.Comparison, refPath string) bool {
	for _, res := range c.SkippedHere {
		fmt.Fprintf(w, "sysgate conformance: not compared, skipped on this machine: %s: %s\n", res.Case, res.Detail)
	}
	for _, d := range c.Differences {
		fmt.Fprintf(w, "sysgate conformance: differs from %s: %s\n", refPath, d)
	}
	fmt.Fprintf(w, "sysgate conformance: %s\n", c.SummaryLine())
	return len(c.Differences) > 0
}

// findProbe returns the probe to copy into bundles: --probe, then
// $SYSGATE_PROBE, then sysgate-probe beside this executable (make build
// puts it there), and last one built now with gcc.
func findProbe(flagPath string) (path string, cleanup func(), err error) {
	none := func() {}
	for _, p := range []string{flagPath, os.Getenv(probe.PrebuiltEnv)} {
		if p != "" {
			if _, err := os.Stat(p); err != nil {
				return "", none, fmt.Errorf("the syscall probe: %w", err)
			}
			return p, none, nil
		}
	}
	if self, err := os.Executable(); err == nil {
		beside := filepath.Join(filepath.Dir(self), probe.BinaryName)
		if _, err := os.Stat(beside); err == nil {
			return beside, none, nil
		}
	}
	dir, err := os.MkdirTemp("", "sysgate-probe-")
	if err != nil {
		return "", none, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	path, err = probe.Build(dir)
	if err != nil {
		cleanup()
		return "", none, fmt.Errorf("no syscall probe: give --probe PATH or install gcc: %w", err)
	}
	return path, cleanup, nil
}

var _ flag.Value = (*listFlag)(nil)
