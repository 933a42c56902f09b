package wrapper

import (
	"strings"
	"testing"
)

// Everything that creates nothing is the runtime's own answer: help, usage
// errors and version, for every subcommand, through sysgate-runc exactly as
// from the runtime (issue 19). Run side by side, each from an empty
// working directory (`spec` writes config.json there): the same exit status
// and the same stdout.
func TestRuntimeParityWithoutCreate(t *testing.T) {
	requireRoot(t)
	subcommands := []string{"checkpoint", "create", "delete", "events", "exec", "features", "kill", "list",
		"pause", "ps", "restore", "resume", "run", "spec", "start", "state", "update"}
	lines := [][]string{{"-h"}, {"--help"}, {"--version"}, {}, {"no-such-command"}}
	for _, sub := range subcommands {
		for _, tail := range [][]string{{"-h"}, {"--help"}, {}, {"a", "b", "c"}} {
			lines = append(lines, append([]string{sub}, tail...))
		}
	}
	for _, rt := range runtimes(t) {
		t.Run(rt.name, func(t *testing.T) {
			// allow_restore: restore's own help and usage errors go to the
			// runtime too only where restores may (docs/policy.md).
			n := newNode(t, rt, "allow_restore = true")
			for _, args := range lines {
				want := n.cmdIn(t.TempDir(), true, args...)
				got := n.cmdIn(t.TempDir(), false, args...)
				if got.code != want.code || got.stdout != want.stdout {
					t.Errorf("%s %s:\nsysgate-runc: %s\n%s: %s", rt.name, strings.Join(args, " "), got, rt.name, want)
				}
			}
		})
	}
}
