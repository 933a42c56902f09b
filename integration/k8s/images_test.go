package k8s

import (
	"os"
	"path/filepath"

	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/integration/nodekit"
)

// The offline images, imported into containerd's k8s.io namespace. The
// registry name is under the reserved .test domain: nothing is ever
// pulled (their tags are not :latest, so the default pull policy
// IfNotPresent finds them), and a pull by mistake fails fast.
//
// appImage stands in for the seed's nginx:1.27: busybox whose default
// command stays up (the seed's nginx containers name no command) and stops
// at once on SIGTERM. busyboxImage stands in for busybox:1.36.
const (
	pauseImage   = "sysgate.test/pause:1"
	busyboxImage = "sysgate.test/busybox:1"
	appImage     = "sysgate.test/app:1"
)

var waitShell = []string{"sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"}

// writeImages writes the images as OCI layout tarballs into dir.
func writeImages(dir string) ([]string, error) {
	pauseRoot, err := nodekit.PauseRootfs(dir)
	if err != nil {
		return nil, err
	}
	busyboxRoot := filepath.Join(dir, "busybox-rootfs")
	if err := bundle.Rootfs(busyboxRoot); err != nil {
		return nil, err
	}
	var paths []string
	for _, img := range []struct {
		name, file, root string
		config           nodekit.Config
	}{
		{pauseImage, "pause", pauseRoot, nodekit.Config{Entrypoint: []string{"/pause"}}},
		{busyboxImage, "busybox", busyboxRoot, nodekit.Config{Cmd: []string{"sh"}, Env: []string{"PATH=/bin"}}},
		{appImage, "app", busyboxRoot, nodekit.Config{Cmd: waitShell, Env: []string{"PATH=/bin"}}},
	} {
		data, err := nodekit.Archive(img.name, img.root, img.config)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, img.file+".oci.tar")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}
