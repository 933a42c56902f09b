package main

import (
	"fmt"
	"io"

	"github.com/sysgate/sysgate/spec"
)

type resolveReport struct {
	spec.Decision
	Policy   string `json:"policy"`
	Verified bool   `json:"verified"`
	Problem  string `json:"problem,omitempty"`
	Warning  string `json:"warning,omitempty"`
}

// runResolve prints what sysgate-runc would decide for a bundle, without
// touching it.
func runResolve(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("resolve", "--bundle DIR [--config FILE] [--id ID] [--output text|json]", stdout)
	bundleDir := fs.String("bundle", ".", "the OCI bundle (directory with config.json)")
	config := fs.String("config", spec.PolicyPath(), "the node policy file")
	id := fs.String("id", "", "the container id to report")
	output := outputFlag(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	policy, err := spec.LoadPolicy(*config)
	if err != nil {
		return err
	}
	// resolve changes nothing, not even the cache or the record key: it
	// plans the create sysgate-runc would commit.
	policy.CacheDir = ""
	c, err := spec.Plan(nil, *bundleDir, *id, policy)
	defer c.Close()
	if !c.Decided() {
		return err
	}
	r := resolveReport{Decision: c.Decision, Policy: policy.Path, Warning: c.Warning, Verified: err == nil}
	if r.Policy == "" {
		r.Policy = *config + " (missing: defaults)"
	}
	if err != nil {
		r.Problem = err.Error()
	}
	if *output == "json" {
		if err := writeJSON(stdout, r); err != nil {
			return err
		}
	} else {
		printDecision(stdout, r)
	}
	if !r.Verified {
		return exitError(exitFailure)
	}
	return nil
}

func printDecision(w io.Writer, r resolveReport) {
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%-12s %s\n", k+":", v)
		}
	}
	line("policy", r.Policy)
	line("source", r.Source)
	line("type", string(r.Type))
	line("ref", r.Ref)
	line("asked by", r.From)
	line("profile", r.ProfilePath)
	line("digest", r.Digest)
	if r.Audit {
		line("audit", "denials are logged and allowed (policy audit = true)")
	}
	line("reason", r.Reason)
	line("warning", r.Warning)
	if r.Verified {
		line("verified", "the profile validates and compiles")
	} else {
		line("refused", r.Problem)
	}
}
