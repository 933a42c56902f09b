package main

import (
	"fmt"
	"io"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/conformance/verify"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/spec/profile"
)

// diffLine is one difference in --output json: where (ABI, a syscall or a
// run of numbers, and the arguments when only some differ) and the two
// verdicts.
type diffLine struct {
	ABI     specs.Arch `json:"abi"`
	From    int32      `json:"from"`
	To      int32      `json:"to"`
	Syscall string     `json:"syscall,omitempty"`
	Args    *[6]uint64 `json:"args,omitempty"`
	A       string     `json:"a"`
	B       string     `json:"b"`
}

// runDiff compares two profiles by meaning: both compiled, both run in
// filter/bpf's interpreter over every (ABI, syscall) and the arguments
// their conditions draw. It exits 1 when they differ, as diff(1) does.
func runDiff(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("profile diff", "A B [--caps LIST] [--output text|json]", stdout)
	output := outputFlag(fs)
	capList := fs.String("caps", "", "bounding capabilities a Docker-format profile (includes/excludes) is rendered for (default: the OCI default set)")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	if len(files) != 2 {
		return fmt.Errorf("%w: give two profiles (a file, or runtime/default for containerd's RuntimeDefault)", errUsage)
	}
	caps := profile.DefaultCapabilities
	if *capList != "" {
		if caps, err = profile.ParseCapabilities(*capList); err != nil {
			return fmt.Errorf("--caps: %w", err)
		}
	}
	var progs [2]*filter.Program
	var profiles [2]*specs.LinuxSeccomp
	for i, f := range files {
		p, err := loadForDiff(f, caps, stderr)
		if err != nil {
			return err
		}
		if profiles[i], progs[i], err = compileLoaded(f, p, filter.Options{}, stderr); err != nil {
			return err
		}
	}
	diffs, err := verify.Diff(progs[0].Instructions, progs[1].Instructions, profiles[0], profiles[1])
	if err != nil {
		return fmt.Errorf("comparing %s and %s: %w", files[0], files[1], err)
	}
	if *output == "json" {
		lines := make([]diffLine, 0, len(diffs))
		for _, d := range diffs {
			lines = append(lines, diffLine{ABI: d.ABI, From: d.From, To: d.To, Syscall: d.Syscall, Args: d.Args, A: d.Installed, B: d.Decided})
		}
		if err := writeJSON(stdout, map[string]any{"a": files[0], "b": files[1], "differences": lines}); err != nil {
			return err
		}
	} else {
		printDiff(stdout, files, diffs)
	}
	if len(diffs) > 0 {
		return exitError(1)
	}
	return nil
}

// loadForDiff reads a profile, rendering a Docker-format one (podman's
// default has includes/excludes) for caps on this node, as a container
// would get it.
func loadForDiff(path string, caps []string, stderr io.Writer) (*specs.LinuxSeccomp, error) {
	if path == "runtime/default" {
		return profile.RuntimeDefault(caps), nil
	}
	t, err := profile.LoadTemplate(path)
	if err != nil {
		return nil, err
	}
	if t.Conditional() {
		fmt.Fprintf(stderr, "note: %s has conditional rules; compared as rendered for capabilities %s on this node\n", path, strings.Join(caps, ","))
		return t.Render(caps, profile.HostNode()), nil
	}
	return t.Unconditional()
}

func printDiff(w io.Writer, files []string, diffs []verify.Difference) {
	if len(diffs) == 0 {
		fmt.Fprintf(w, "%s and %s give every syscall of every ABI the same verdict\n", files[0], files[1])
		return
	}
	groups, perArgs := verify.GroupDifferences(diffs)
	fmt.Fprintf(w, "--- a: %s\n+++ b: %s\n", files[0], files[1])
	for _, g := range groups {
		fmt.Fprintf(w, "%s: a %s, b %s (%d): %s\n", g.ABI, g.Installed, g.Decided, g.Count, strings.Join(g.Where, ", "))
	}
	for _, d := range perArgs {
		s := d.String()
		s = strings.Replace(s, ": installed ", ": a ", 1)
		s = strings.Replace(s, ", decided ", ", b ", 1)
		fmt.Fprintln(w, s)
	}
}
