package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/sysgate/sysgate/conformance/verify"
	"github.com/sysgate/sysgate/spec"
)

// psReport is ps's JSON: every container and the summary line.
type psReport struct {
	Containers []*verify.Report `json:"containers"`
	Summary    string           `json:"summary"`
	Warnings   []string         `json:"warnings,omitempty"`
}

// runPs lists every container on the node as the kernel sees it, with
// sysgate's decision and whether the init process holds it.
func runPs(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ps", "[--output table|json] [--drift] [--config FILE]", stdout)
	output := fs.String("output", "table", "output format: table or json")
	drift := fs.Bool("drift", false, "also show whether each decision would differ today (edited Localhost file, changed policy, another RuntimeDefault)")
	config := fs.String("config", spec.PolicyPath(), "the node policy file (its decision_log and cache_dir are read)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *output != "table" && *output != "json" {
		return fmt.Errorf("%w: --output must be table or json, not %q", errUsage, *output)
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	if err := needRoot("ps"); err != nil {
		return err
	}
	policy, err := spec.LoadPolicy(*config)
	if err != nil {
		return err
	}
	res, err := verify.Run(verify.Options{Policy: policy, Drift: *drift})
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "sysgate ps: warning: %s\n", w)
	}
	if *output == "json" {
		return writeJSON(stdout, psReport{Containers: res.Reports, Summary: verify.Summary(res.Reports), Warnings: res.Warnings})
	}
	printPs(stdout, res.Reports, *drift)
	return nil
}

func printPs(w io.Writer, reports []*verify.Report, drift bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := "CONTAINER\tPOD\tNAME\tHANDLER\tSOURCE\tPROFILE\tDIGEST\tSECCOMP\tSTATUS"
	if drift {
		header += "\tDRIFT"
	}
	fmt.Fprintln(tw, header)
	var details []string
	for _, r := range reports {
		source, prof, digest := "-", "(not decided by sysgate)", "-"
		if d := r.Decision; d != nil {
			source, prof, digest = d.Source, strings.TrimSpace(string(d.Type)+" "+d.Ref), shortDigest(d.Digest)
		}
		pod := "-"
		if r.Namespace != "" || r.Pod != "" {
			pod = r.Namespace + "/" + r.Pod
		}
		seccomp := r.Seccomp
		if r.Seccomp == "filter" {
			seccomp = fmt.Sprintf("filter:%d", r.Filters)
		}
		line := strings.Join([]string{shortID(r), pod, dash(r.Name), dash(r.Handler), source, prof, digest, seccomp, string(r.Status)}, "\t")
		if drift {
			line += "\t" + driftWord(r.Drift)
		}
		fmt.Fprintln(tw, line)
		if r.Status == verify.StatusDiffers || r.Status == verify.StatusUnverified {
			details = append(details, fmt.Sprintf("%s: %s: %s", shortID(r), r.Status, r.Problem))
		}
		if drift && r.Drift != nil && (r.Drift.Changed || r.Drift.Unknown) {
			details = append(details, fmt.Sprintf("%s: drift: %s", shortID(r), r.Drift.Reason))
		}
	}
	tw.Flush()
	if len(details) > 0 {
		fmt.Fprintln(w)
		for _, d := range details {
			fmt.Fprintln(w, d)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, verify.Summary(reports))
}

func driftWord(d *verify.Drift) string {
	switch {
	case d == nil:
		return "-"
	case d.Changed:
		return "changed"
	case d.Unknown:
		return "unknown"
	}
	return "no"
}

// shortID is the id as ps shows it: 12 characters of a 64-hex id, the
// whole of a shorter one, and the cgroup of a container without one.
func shortID(r *verify.Report) string {
	switch {
	case len(r.ID) == 64:
		return r.ID[:12]
	case r.ID != "":
		return r.ID
	}
	return "? (cgroup " + r.Cgroup + ", pid " + fmt.Sprint(r.InitPID) + ")"
}

func shortDigest(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return dash(d)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// needRoot refuses to run ps or verify without root: other users'
// processes hide their namespaces, cgroups and filters, and a partial
// list would read as a complete one.
func needRoot(cmd string) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%s needs root: it reads every process's namespaces and cgroups in /proc and their filters with ptrace (CAP_SYS_PTRACE, CAP_SYS_ADMIN); run it with sudo", cmd)
	}
	return nil
}
