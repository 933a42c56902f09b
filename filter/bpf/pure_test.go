package bpf

import (
	"os/exec"
	"strings"
	"testing"
)

// The toolkit stays pure: no cgo of its own, and nothing outside the
// standard library, neither for the package nor for its tests, so that it
// never comes to depend on libseccomp or on the compiler it checks.
func TestPackageIsPure(t *testing.T) {
	const self = "github.com/sysgate/sysgate/filter/bpf"
	out, err := exec.Command("go", "list", "-f", "{{.CgoFiles}}", self).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", self, err)
	}
	if got := strings.TrimSpace(string(out)); got != "[]" {
		t.Errorf("%s has cgo files %s", self, got)
	}
	// -test adds what the tests import; their own packages are named
	// after self ("self [self.test]", "self.test", "self_test").
	out, err = exec.Command("go", "list", "-deps", "-test", "-f", "{{.ImportPath}} {{.Standard}}", self).Output()
	if err != nil {
		t.Fatalf("go list -deps -test %s: %v", self, err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		path, standard := fields[0], fields[len(fields)-1]
		switch {
		case path == self || path == self+".test" || path == self+"_test":
		case standard != "true":
			t.Errorf("%s depends on %s, which is not in the standard library", self, path)
		case path == "C" || path == "runtime/cgo":
			t.Errorf("%s depends on %s: it must build without cgo", self, path)
		}
	}
}
