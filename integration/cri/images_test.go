package cri

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/integration/nodekit"
)

// The offline images. The registry name is under the reserved .test domain:
// nothing here is ever pulled, and a pull by mistake fails fast.
const (
	pauseImage   = "sysgate.test/pause:1"
	busyboxImage = "sysgate.test/busybox:1"
)

var (
	imagesOnce sync.Once
	imagePaths []string
	imagesErr  error
)

// buildImages writes the pause and busybox images as OCI layout tarballs
// (what `ctr images import` and `podman load` read) once per test binary.
func buildImages(t testing.TB) []string {
	t.Helper()
	dir := tools(t)
	imagesOnce.Do(func() {
		imagePaths, imagesErr = writeImages(dir)
	})
	if imagesErr != nil {
		t.Fatal(imagesErr)
	}
	return imagePaths
}

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
		name, root string
		config     nodekit.Config
	}{
		{pauseImage, pauseRoot, nodekit.Config{Entrypoint: []string{"/pause"}}},
		{busyboxImage, busyboxRoot, nodekit.Config{Cmd: []string{"sh"}, Env: []string{"PATH=/bin"}}},
	} {
		data, err := nodekit.Archive(img.name, img.root, img.config)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, filepath.Base(img.root)+".oci.tar")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}
