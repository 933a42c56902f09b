package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysgate/sysgate/conformance/probe"
)

// Shipped binaries never link test code: no integration/ package (tests,
// harnesses, the bench, the VM tier) and not the testing package.
func TestShippedBinariesLinkNoTestCode(t *testing.T) {
	for _, cmd := range []string{"sysgate", "sysgate-runc", "sysgate-helper", "containerd-shim-sysgate-v1"} {
		out, err := exec.Command("go", "list", "-deps", "github.com/sysgate/sysgate/cmd/"+cmd).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", cmd, err)
		}
		for _, pkg := range strings.Fields(string(out)) {
			if pkg == "testing" || strings.HasPrefix(pkg, "github.com/sysgate/sysgate/integration") {
				t.Errorf("%s links %s", cmd, pkg)
			}
		}
	}
}

// `make build` puts the static probe beside sysgate, so that a node with
// no compiler can run the conformance suite from a copy of bin/.
func TestConformanceWithoutACompiler(t *testing.T) {
	if testing.Short() || os.Geteuid() != 0 {
		t.Skip("creates containers: needs root and no -short")
	}
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Fatal("runc is not installed (make deps installs it)")
	}
	bin := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "sysgate"), ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if _, err := probe.Build(bin); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(bin, probe.BinaryName+".c"))
	cmd := exec.Command(filepath.Join(bin, "sysgate"), "conformance", "--runtime", runc, "--case", "action/errno-errnoret", "--output", "json")
	cmd.Env = []string{"PATH=" + t.TempDir()} // nothing, gcc least of all
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "1 passed, 0 failed") {
		t.Errorf("sysgate conformance with no compiler on PATH: %v\n%s", err, out)
	}
}

// sysgate-runc starts once per container create: it must not link the
// helper's Prometheus metrics or an HTTP stack, whose size and package
// initialisation every create would pay (measured: a binary twice the
// size, +5 ms a create without the helper). The lean sysgate-helper stays
// resident, and its resident set is its binary's size plus its heap: it
// serves creates only, so it links none of that either, nor NRI.
func TestSysgateRuncLinksNoMetrics(t *testing.T) {
	for _, cmd := range []string{"sysgate-runc", "sysgate-helper"} {
		out, err := exec.Command("go", "list", "-deps", "github.com/sysgate/sysgate/cmd/"+cmd).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", cmd, err)
		}
		for _, pkg := range strings.Fields(string(out)) {
			// Nor eBPF: recordings are the helper's (cilium/ebpf would add
			// about 3 MB to the binary every create starts).
			if strings.HasPrefix(pkg, "github.com/prometheus/") || pkg == "net/http" || pkg == "github.com/sysgate/sysgate/shim/denials" ||
				strings.HasPrefix(pkg, "github.com/cilium/") || pkg == "github.com/sysgate/sysgate/shim/record" || pkg == "github.com/sysgate/sysgate/filter/observe" ||
				strings.HasPrefix(pkg, "github.com/containerd/nri") || strings.HasPrefix(pkg, "github.com/elastic/") {
				t.Errorf("%s links %s", cmd, pkg)
			}
		}
	}
}
