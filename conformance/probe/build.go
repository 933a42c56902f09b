package probe

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
