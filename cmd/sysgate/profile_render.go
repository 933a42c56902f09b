package main

import (
	"fmt"
	"io"

	"github.com/sysgate/sysgate/spec/profile"
)

// runRender prints the plain OCI profile a profile in Docker's format (with
// archMap and includes/excludes) becomes for a container with the given
// capabilities on this node, as Docker and sysgate-runc render it.
func runRender(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("profile render", "FILE [--caps LIST]", stdout)
	capList := fs.String("caps", "", "comma-separated bounding capabilities of the container (default: the OCI default set)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("%w: give one profile file", errUsage)
	}
	caps := profile.DefaultCapabilities
	if *capList != "" {
		if caps, err = profile.ParseCapabilities(*capList); err != nil {
			return fmt.Errorf("--caps: %w", err)
		}
	}
	template, err := profile.LoadTemplate(rest[0])
	if err != nil {
		return err
	}
	return writeJSON(stdout, template.Render(caps, profile.HostNode()))
}
