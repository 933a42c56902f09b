package shim

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/profile"
)

// BenchmarkPrepare is the create-time work in process, with a warm cache,
// on a bundle as containerd writes it (so every iteration rewrites it):
// what sysgate-runc or its helper adds to a container start besides
// process start-up.
func BenchmarkPrepare(b *testing.B) {
	dir := b.TempDir()
	if _, err := bundle.Create(dir, bundle.Options{Args: []string{"true"}, Seccomp: profile.RuntimeDefault(profile.DefaultCapabilities)}); err != nil {
		b.Skip(err)
	}
	config := filepath.Join(dir, "config.json")
	original, err := os.ReadFile(config)
	if err != nil {
		b.Fatal(err)
	}
	policy := spec.DefaultPolicy()
	policy.CacheDir = filepath.Join(dir, "cache")
	for _, kind := range []string{"runc", "crun"} {
		b.Run(kind, func(b *testing.B) {
			policy.RuntimeKind = kind
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				if err := os.WriteFile(config, original, 0o644); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := Prepare(dir, "bench", policy, func(string) {}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
