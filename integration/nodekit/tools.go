package nodekit

import (
	"fmt"
	"os/exec"
	"path/filepath"
)

// Binaries are the sysgate programs a node runs.
var Binaries = []string{"sysgate-runc", "containerd-shim-sysgate-v1", "sysgate", "sysgate-helper"}

// BuildBinaries builds Binaries static, like `make build`, into dir.
func BuildBinaries(dir string) error {
	for _, name := range Binaries {
		out, err := exec.Command("go", "build", "-tags", "netgo,osusergo", "-ldflags", "-linkmode external -extldflags -static",
			"-o", filepath.Join(dir, name), "github.com/sysgate/sysgate/cmd/"+name).CombinedOutput()
		if err != nil {
			return fmt.Errorf("go build %s: %v\n%s", name, err, out)
		}
	}
	return nil
}
