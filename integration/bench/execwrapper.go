package main

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

//go:embed execwrapper/execwrapper.c
var execWrapperSource []byte

// buildExecWrapper compiles, into dir, a static binary that only execs
// runtime: the BinaryName floor that sysgate-runc's rows are set against.
func buildExecWrapper(dir, runtime string) (string, error) {
	src := filepath.Join(dir, "execwrapper.c")
	if err := os.WriteFile(src, execWrapperSource, 0o644); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "execwrapper-"+filepath.Base(runtime))
	cmd := exec.Command("gcc", "-static", "-O2", "-Wall", "-Werror", "-DRUNTIME="+strconv.Quote(runtime), "-o", bin, src)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the exec-only wrapper for %s: %v\n%s", runtime, err, out)
	}
	return bin, nil
}
