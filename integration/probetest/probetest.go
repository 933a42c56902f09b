// Package probetest builds the syscall probe and mkdir32 once per test
// binary, for tests: shipped code builds them with package probe and never
// imports this (a test in cmd/sysgate checks that).
package probetest

import (
	"os"
	"sync"
	"testing"

	"github.com/sysgate/sysgate/conformance/probe"
)

// builtOnce is a program built at most once per test binary.
type builtOnce struct {
	sync.Once
	path string
	err  error
}

var probeBuild, mkdir32Build builtOnce

// BuildForTest returns $SYSGATE_PROBE when set, or builds the probe once per
// test binary. A failure is fatal: gcc and the static libc are part of the
// project's setup, so a missing compiler is a broken machine, not a reason
// to skip.
func BuildForTest(tb testing.TB) string {
	tb.Helper()
	return forTest(tb, &probeBuild, probe.PrebuiltEnv, probe.Build, "gcc and libc6-dev")
}

// Build32ForTest is BuildForTest for mkdir32 ($SYSGATE_PROBE32).
func Build32ForTest(tb testing.TB) string {
	tb.Helper()
	return forTest(tb, &mkdir32Build, probe.Prebuilt32Env, probe.Build32, "gcc-multilib")
}

// forTest builds into a directory made with os.MkdirTemp, not tb.TempDir,
// which would vanish with the first test that asked.
func forTest(tb testing.TB, once *builtOnce, env string, build func(string) (string, error), needs string) string {
	tb.Helper()
	if path := os.Getenv(env); path != "" {
		if _, err := os.Stat(path); err != nil {
			tb.Fatalf("%s=%s: %v", env, path, err)
		}
		return path
	}
	once.Do(func() {
		dir, err := os.MkdirTemp("", "sysgate-probe-")
		if err != nil {
			once.err = err
			return
		}
		once.path, once.err = build(dir)
	})
	if once.err != nil {
		tb.Fatalf("cannot build a test program (%s are required; the project's setup installs them; or set %s): %v", needs, env, once.err)
	}
	return once.path
}
