package wrapper

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sysgate/sysgate/integration/stats"
	"github.com/sysgate/sysgate/spec/profile"

	"github.com/sysgate/sysgate/conformance/bundle"
)

// The benchmarks interleave the bare runtime and the wrapper in every
// iteration and report medians and the median of the paired ratios, which
// is robust against the other load on a shared machine. Run them with
// `make bench`; they assert nothing about time.

// BenchmarkCreateStartDelete: a RuntimeDefault container (rendered by the
// CRI, as containerd does) through the wrapper vs the bare runtime. Each
// has its own bundle, and the wrapper's is rewritten as containerd writes it
// before every create: otherwise the bare runtime would start from the
// bundle the wrapper prepared (crun from sysgate's program). Bundles are
// in the test's temporary directory, on this machine's disk; `make bench`
// (integration/bench) measures on a tmpfs, as under containerd's /run, and
// with the helper, and is what docs/benchmarks.md reports.
func BenchmarkCreateStartDelete(b *testing.B) {
	requireRoot(b)
	for _, rt := range runtimes(b) {
		b.Run(rt.name, func(b *testing.B) {
			n := newBenchNode(b, rt)
			opts := bundle.Options{Args: []string{"true"}, Seccomp: profile.RuntimeDefault(profile.DefaultCapabilities),
				Annotations: podAnnotations("default", "bench", "app", nil)}
			bareDir, wrappedDir := n.bundle(opts), n.bundle(opts)
			pristine, err := os.ReadFile(filepath.Join(wrappedDir, "config.json"))
			if err != nil {
				b.Fatal(err)
			}
			cycle := func(bare bool) time.Duration {
				dir := bareDir
				if !bare {
					dir = wrappedDir
					if err := os.WriteFile(filepath.Join(dir, "config.json"), pristine, 0o644); err != nil {
						b.Fatal(err)
					}
				}
				id := newID("bench")
				start := time.Now()
				for _, args := range [][]string{{"create", "--bundle", dir, id}, {"start", id}, {"delete", "--force", id}} {
					if r := n.cmd(bare, args...); r.code != 0 {
						b.Fatalf("%v: %s", args, r)
					}
				}
				return time.Since(start)
			}
			cycle(false) // the first create fills sysgate's cache
			pairedRatio(b, func() time.Duration { return cycle(true) }, func() time.Duration { return cycle(false) })
		})
	}
}

// BenchmarkPassthrough: `state`, which the shim calls many times per
// container; the wrapper must only exec the runtime.
func BenchmarkPassthrough(b *testing.B) {
	requireRoot(b)
	rt := runtimes(b)[0]
	n := newBenchNode(b, rt)
	dir := n.bundle(bundle.Options{Args: []string{"sleep", "600"}})
	id := newID("pass")
	if r := n.cmd(false, "create", "--bundle", dir, id); r.code != 0 {
		b.Fatalf("create: %s", r)
	}
	b.Cleanup(func() { n.cmd(true, "delete", "--force", id) })
	timed := func(bare bool) time.Duration {
		start := time.Now()
		if r := n.cmd(bare, "state", id); r.code != 0 {
			b.Fatalf("state: %s", r)
		}
		return time.Since(start)
	}
	pairedRatio(b, func() time.Duration { return timed(true) }, func() time.Duration { return timed(false) })
}

func pairedRatio(b *testing.B, bare, wrapped func() time.Duration) {
	b.Helper()
	var bareT, wrappedT, ratios []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Alternate which goes first, so neither always runs warm.
		var x, y time.Duration
		if i%2 == 0 {
			x, y = bare(), wrapped()
		} else {
			y, x = wrapped(), bare()
		}
		bareT = append(bareT, float64(x.Microseconds())/1000)
		wrappedT = append(wrappedT, float64(y.Microseconds())/1000)
		ratios = append(ratios, float64(y)/float64(x))
	}
	b.StopTimer()
	b.ReportMetric(stats.Median(bareT), "bare-ms")
	b.ReportMetric(stats.Median(wrappedT), "wrapped-ms")
	b.ReportMetric(stats.Median(ratios), "ratio")
}

func newBenchNode(b *testing.B, rt runtime) *node { return newNode(b, rt, "") }
