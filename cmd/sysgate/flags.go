package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
)

// newFlags makes a flag set whose --help prints the command's usage to
// stdout and whose errors are returned, not printed twice.
func newFlags(name, synopsis string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("sysgate "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: sysgate %s %s\n\nOptions:\n", name, synopsis)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parseFlags parses flags anywhere on the command line (so that
// "validate a.json --strict" works) until "--", and returns the positional
// arguments. --help prints usage and ends the command successfully.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		rest, err := parseLeadingFlags(fs, args)
		if err != nil {
			return nil, err
		}
		if len(rest) == 0 {
			return positional, nil
		}
		if len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// parseLeadingFlags parses the flags before the first positional argument or
// "--" and returns the rest untouched: for commands whose trailing arguments
// are another command's.
func parseLeadingFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fs.Usage()
			return nil, exitError(0)
		}
		return nil, fmt.Errorf("%w: %v (see --help)", errUsage, err)
	}
	return fs.Args(), nil
}

// outputFlag adds --output text|json.
func outputFlag(fs *flag.FlagSet) *string {
	return fs.String("output", "text", "output format: text or json")
}

func checkOutput(format string) error {
	if format != "text" && format != "json" {
		return fmt.Errorf("%w: --output must be text or json, not %q", errUsage, format)
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
