// Command sysgate-helper is the lean create helper: what `sysgate helper`
// does for a policy that asks for creates only (no denials,
// metrics_listen or record_namespaces), in a binary that links no
// Prometheus, eBPF or audit code, so that the resident process stays
// small (docs/design.md, "The create helper"). `sysgate helper` starts it
// by itself when the policy allows; it can be run directly with the same
// flags.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sysgate/sysgate/shim"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sysgate-helper:", err)
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(1)
	}
}

// version is set at build time like sysgate's (make build); `sysgate
// doctor` compares the two to find a stale helper.
var version = "dev"

func run(args []string, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "version" {
		// What doctor asks any helper binary: `version --output json`.
		if len(args) == 3 && args[1] == "--output" && args[2] == "json" {
			return json.NewEncoder(os.Stdout).Encode(map[string]string{"sysgate": version})
		}
		fmt.Println("sysgate-helper", version)
		return nil
	}
	fs := flag.NewFlagSet("sysgate-helper", flag.ContinueOnError)
	fs.SetOutput(stderr)
	open := shim.HelperFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	socket, policy, log, err := open(stderr)
	if err != nil {
		return err
	}
	if services := policy.HelperServices(); services != "" {
		return fmt.Errorf("policy %s asks for %s, which sysgate-helper does not serve (it serves creates only); run `sysgate helper`, which serves them too", policy.Path, services)
	}
	return shim.ServeHelper(&shim.Helper{PolicyPath: policy.Path, Log: log}, socket, nil)
}
