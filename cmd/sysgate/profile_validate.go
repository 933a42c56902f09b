package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/sysgate/sysgate/spec/profile"
)

type validationReport struct {
	File     string        `json:"file"`
	Valid    bool          `json:"valid"`
	Findings []findingJSON `json:"findings"`
}

type findingJSON struct {
	Severity string `json:"severity"`
	Path     string `json:"path,omitempty"`
	Message  string `json:"message"`
}

func runValidate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("profile validate", "[--strict] [--output text|json] FILE...", stdout)
	strict := fs.Bool("strict", false, "treat warnings as errors (notes stay notes)")
	output := outputFlag(fs)
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("%w: name at least one profile file", errUsage)
	}

	reports := make([]validationReport, 0, len(files))
	failed := false
	for _, file := range files {
		r := validateFile(file, *strict)
		failed = failed || !r.Valid
		reports = append(reports, r)
	}
	if *output == "json" {
		if err := writeJSON(stdout, reports); err != nil {
			return err
		}
	} else {
		for _, r := range reports {
			printReport(r, stdout, stderr)
		}
	}
	if failed {
		return exitError(exitFailure)
	}
	return nil
}

func validateFile(file string, strict bool) validationReport {
	r := validationReport{File: file, Findings: []findingJSON{}}
	// Docker's conditional rules are validated as containers get them
	// (profile.ValidateTemplate).
	template, err := profile.LoadTemplate(file)
	if err != nil {
		var pe *profile.ParseError
		f := findingJSON{Severity: profile.SeverityError.String(), Message: err.Error()}
		if errors.As(err, &pe) {
			f.Path, f.Message = pe.Path, pe.Problem
		}
		r.Findings = append(r.Findings, f)
		return r
	}
	r.Valid = true
	for _, f := range profile.ValidateTemplate(template) {
		if f.Severity == profile.SeverityError || (strict && f.Severity == profile.SeverityWarning) {
			r.Valid = false
		}
		r.Findings = append(r.Findings, findingJSON{Severity: f.Severity.String(), Path: f.Path, Message: f.Message})
	}
	return r
}

func printReport(r validationReport, stdout, stderr io.Writer) {
	for _, f := range r.Findings {
		where := r.File
		if f.Path != "" {
			where += ": " + f.Path
		}
		fmt.Fprintf(stderr, "%s: %s: %s\n", where, f.Severity, f.Message)
	}
	if r.Valid {
		count := map[string]int{}
		for _, f := range r.Findings {
			count[f.Severity]++
		}
		fmt.Fprintf(stdout, "%s: valid (%d warnings, %d notes)\n", r.File, count["warning"], count["info"])
	} else {
		fmt.Fprintf(stdout, "%s: invalid\n", r.File)
	}
}
