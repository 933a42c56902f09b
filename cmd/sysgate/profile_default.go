package main

import (
	"fmt"
	"io"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/spec/profile"
)

func runDefault(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("profile default", "[--caps LIST] [--arch amd64|arm64]", stdout)
	capList := fs.String("caps", "", "comma-separated capabilities of the container (default: the OCI default set)")
	machine := fs.String("arch", "", "the node's machine: amd64 (x86_64) or arm64 (aarch64); default: this one")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	caps := profile.DefaultCapabilities
	if *capList != "" {
		if caps, err = profile.ParseCapabilities(*capList); err != nil {
			return fmt.Errorf("--caps: %w", err)
		}
	}
	if *machine == "" {
		return writeJSON(stdout, profile.RuntimeDefault(caps))
	}
	m, err := filter.MachineNamed(*machine)
	if err != nil {
		return fmt.Errorf("--arch: %w", err)
	}
	p, err := profile.RuntimeDefaultFor(m.Name, caps)
	if err != nil {
		return err
	}
	return writeJSON(stdout, p)
}
