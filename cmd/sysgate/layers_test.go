package main

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// layers ranks the shipped packages as docs/design.md's map draws them:
// a package imports only packages of a higher rank, so that data flows one
// way, from the binaries down to the pure BPF toolkit. A new package needs
// a rank here, which is a look at the map.
var layers = map[string]int{
	"cmd/sysgate":                          0,
	"cmd/sysgate-runc":                     0,
	"cmd/sysgate-helper":                   0,
	"cmd/containerd-shim-sysgate-v1":       0,
	"deploy":                               0, // manifests; its Go is tests
	"shim/containerd":                      1,
	"shim/nri":                             1, // the NRI plugin: spec only
	"shim":                                 2,
	"shim/denials":                         3,
	"shim/record":                          3, // recordings to profiles: spec/profile and filter, no eBPF
	"conformance":                          2,
	"conformance/bundle":                   3,
	"deploy/install":                       3, // engine configs: imports none of ours
	"conformance/probe":                    3,
	"conformance/verify":                   3, // ps and verify: spec's decisions against the kernel
	"conformance/node":                     9, // containers and installed filters: imports only filter/bpf
	"spec":                                 4,
	"spec/bundle":                          5,
	"spec/internal/jsonobj":                7,
	"spec/profile":                         6,
	"spec/profile/internal/gendefault":     0, // generators: binaries of their own
	"filter/syscalls/internal/gensyscalls": 0,
	"spec/refusal":                         8,
	"filter":                               9,
	"filter/syscalls":                      10,
	"filter/bpf":                           10,
	"filter/observe":                       10, // the eBPF syscall recorder: imports none of ours
}

const module = "github.com/sysgate/sysgate/"

func TestImportsPointOneWay(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "github.com/sysgate/sysgate/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var pkg struct {
			ImportPath string
			GoFiles    []string
			Imports    []string
		}
		if err := dec.Decode(&pkg); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		path := strings.TrimPrefix(pkg.ImportPath, module)
		if len(pkg.GoFiles) == 0 || strings.HasPrefix(path, "integration/") || strings.HasSuffix(path, "test") {
			continue // tests and test helpers: not shipped
		}
		rank, ok := layers[path]
		if !ok {
			t.Errorf("%s has no place in the map: add it to docs/design.md and to layers", path)
			continue
		}
		for _, imp := range pkg.Imports {
			dep, ours := strings.CutPrefix(imp, module)
			if !ours {
				continue
			}
			if depRank, ok := layers[dep]; ok && depRank <= rank {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must point down the map", path, rank, dep, depRank)
			}
		}
	}
}
