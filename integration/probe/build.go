package probe

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The static test programs, compiled with gcc: the syscall probe, and
// mkdir32, a real 32-bit (i386) program that calls mkdir, for the ABI
// bypass tests.
var (
	//go:embed src/probe.c
	probeSource []byte
	//go:embed src/mkdir32.c
	mkdir32Source []byte
)

// File names Build and Build32 give the programs.
const (
	BinaryName    = "sysgate-probe"
	Mkdir32Name   = "mkdir32"
	PrebuiltEnv   = "SYSGATE_PROBE"   // a prebuilt probe, for VM guests without a compiler
	Prebuilt32Env = "SYSGATE_PROBE32" // a prebuilt mkdir32, likewise
)

// Build compiles the probe statically into dir and returns its path.
// Errors carry gcc's output.
func Build(dir string) (string, error) {
	return compile(dir, BinaryName, probeSource, "-static", "-O2", "-Wall", "-Werror")
}

// Build32 compiles mkdir32 as a static i386 program (gcc-multilib).
func Build32(dir string) (string, error) {
	return compile(dir, Mkdir32Name, mkdir32Source, "-m32", "-static", "-O2", "-Wall", "-Werror")
}

func compile(dir, name string, source []byte, flags ...string) (string, error) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return "", fmt.Errorf("building %s: gcc not found: %w", name, err)
	}
	src := filepath.Join(dir, name+".c")
	if err := os.WriteFile(src, source, 0o644); err != nil {
		return "", fmt.Errorf("building %s: %w", name, err)
	}
	path := filepath.Join(dir, name)
	cmd := exec.Command(gcc, append(flags, "-o", path, src)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %s: %w\n%s", name, strings.Join(cmd.Args, " "), err, out)
	}
	return path, nil
}

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
	return forTest(tb, &probeBuild, PrebuiltEnv, Build, "gcc and libc6-dev")
}

// Build32ForTest is BuildForTest for mkdir32 ($SYSGATE_PROBE32).
func Build32ForTest(tb testing.TB) string {
	tb.Helper()
	return forTest(tb, &mkdir32Build, Prebuilt32Env, Build32, "gcc-multilib")
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
