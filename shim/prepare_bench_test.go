package shim

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sysgate/sysgate/integration/bundle"
	"github.com/sysgate/sysgate/spec"
)

// BenchmarkPrepare is the create-time work in process, with a warm cache:
// what sysgate-runc adds to a container start besides its own exec.
func BenchmarkPrepare(b *testing.B) {
	dir := b.TempDir()
	if err := bundle.Rootfs(filepath.Join(dir, "rootfs")); err != nil {
		b.Skip(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	_ = data
	if _, err := bundle.Create(dir, bundle.Options{Args: []string{"true"}, Seccomp: spec.RuntimeDefault(bundle.DefaultCapabilities)}); err != nil {
		b.Fatal(err)
	}
	policy := spec.DefaultPolicy()
	policy.CacheDir = filepath.Join(dir, "cache")
	for _, kind := range []string{"runc", "crun"} {
		b.Run(kind, func(b *testing.B) {
			policy.RuntimeKind = kind
			if _, err := Prepare(dir, "bench", policy, func(string) {}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := Prepare(dir, "bench", policy, func(string) {}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
