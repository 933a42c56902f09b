package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPassthroughPaths checks that the C fast path and the Go path hand the
// same arguments to the same runtime, and that the fast path steps aside
// for create, run, and any policy it cannot read with certainty.
func TestPassthroughPaths(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "sysgate-runc")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	fake := filepath.Join(dir, "fake runtime")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho \"argv0=$0\"\nfor a in \"$@\"; do echo \"arg=$a\"; done\nexit 7\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	policy := func(body string) string {
		p := filepath.Join(t.TempDir(), "config.toml")
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	good := policy("# node policy\nruntime = \"" + fake + "\"  # the real one\nruntime_default = \"/etc/x.json\"\n[extra]\nruntime = \"/elsewhere\"\n")
	literal := policy("runtime='" + fake + "'\n")

	run := func(config string, fast bool, args ...string) (string, int) {
		c := exec.Command(bin, args...)
		c.Env = append(os.Environ(), "SYSGATE_CONFIG="+config)
		if !fast {
			c.Env = append(c.Env, "SYSGATE_NO_FASTPATH=1")
		}
		out, err := c.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return string(out), code
	}
	args := []string{"--root", "/run/x", "--log", "/tmp/l.json", "--log-format", "json", "kill", "ctr 1", "SIGTERM"}
	for _, config := range []string{good, literal} {
		fastOut, fastCode := run(config, true, args...)
		goOut, goCode := run(config, false, args...)
		want := "argv0=" + fake + "\narg=--root\narg=/run/x\narg=--log\narg=/tmp/l.json\narg=--log-format\narg=json\narg=kill\narg=ctr 1\narg=SIGTERM\n"
		if fastOut != want || fastCode != 7 {
			t.Errorf("fast path: exit %d\n%s\nwant exit 7\n%s", fastCode, fastOut, want)
		}
		if goOut != fastOut || goCode != fastCode {
			t.Errorf("the Go path differs: exit %d\n%s", goCode, goOut)
		}
	}

	// create goes through the Go path: it needs a bundle.
	if out, code := run(literal, true, "create", "--bundle", filepath.Join(dir, "nope"), "id"); code != 1 || !strings.Contains(out, "bundle") {
		t.Errorf("create must be decided in Go: exit %d\n%s", code, out)
	}
	// A policy others may write names the binary every command runs as
	// root: neither path trusts it. It is the node's fault (exit 3), not
	// the caller's.
	open := policy("runtime = \"" + fake + "\"\n")
	os.Chmod(open, 0o666)
	for _, fast := range []bool{true, false} {
		if out, code := run(open, fast, "state", "id"); code != 3 || !strings.Contains(out, "is not safe") || strings.Contains(out, "argv0=") {
			t.Errorf("a world-writable policy (fast path %v): exit %d\n%s", fast, code, out)
		}
	}
	// A duplicate runtime key is invalid TOML: the fast path steps aside and
	// the Go path reports it.
	dup := policy("runtime = \"" + fake + "\"\nruntime = \"" + fake + "\"\n")
	if out, code := run(dup, true, "state", "id"); code != 3 || !strings.Contains(out, "config.toml") {
		t.Errorf("duplicate key: exit %d\n%s", code, out)
	}
}
