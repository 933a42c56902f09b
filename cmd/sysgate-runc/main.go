// Command sysgate-runc is a drop-in OCI runtime (runc and crun command
// line): at create and run it gives the container the seccomp profile its
// Pod asked for, or the node's default, then hands over to the real runtime.
package main

import (
	"os"

	"github.com/sysgate/sysgate/shim"
)

func main() {
	os.Exit(shim.Main(os.Args[1:], os.Stderr))
}
