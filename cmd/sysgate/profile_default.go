package main

import (
	"fmt"
	"io"

	"github.com/sysgate/sysgate/spec/profile"
)

func runDefault(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("profile default", "[--caps LIST]", stdout)
	capList := fs.String("caps", "", "comma-separated capabilities of the container (default: the OCI default set)")
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
	return writeJSON(stdout, profile.RuntimeDefault(caps))
}
