package k8s

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkPodStartup measures Pod startup through the whole cluster, as a
// user sees it: from `kubectl apply` of a one-container Pod (RuntimeDefault)
// until `kubectl wait` sees it Ready, one Pod at a time, the handlers
// interleaved so that the machine's noise falls on all of them alike. It
// reports p50 and p99 per handler and their ratios to plain runc; the
// times include the two kubectl runs, which are the same for every
// handler. b.N Pods per handler.
func BenchmarkPodStartup(b *testing.B) {
	c := requireCluster(b)
	// The framework calls the benchmark more than once (b.N = 1 first), and
	// the namespace of a call is still terminating when the next starts.
	ns := c.namespace(b, fmt.Sprintf("bench-startup-%d", b.N))
	times := map[string][]time.Duration{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, h := range handlers {
			p := testPod{Name: fmt.Sprintf("start-%s-%d", h, i), RuntimeClass: h, PodSeccomp: "{type: RuntimeDefault}"}
			start := time.Now()
			c.applyIn(b, ns, p.yaml())
			if out, stderr, err := c.kubectl("wait", "-n", ns, "--for=condition=Ready", "pod/"+p.Name, "--timeout=3m"); err != nil {
				b.Fatalf("%s: %v\n%s%s\n%s", p.Name, err, out, stderr, c.describe(ns, p.Name))
			}
			times[h] = append(times[h], time.Since(start))
			c.kubectl("delete", "pod", "-n", ns, p.Name, "--grace-period=0", "--force", "--wait=false")
		}
	}
	b.StopTimer()
	p50, p99 := map[string]time.Duration{}, map[string]time.Duration{}
	for h, ts := range times {
		slices.Sort(ts)
		p50[h] = ts[len(ts)/2]
		p99[h] = ts[min(len(ts)-1, len(ts)*99/100)]
		b.Logf("%-13s p50 %v p99 %v (%d Pods)", h, p50[h].Round(time.Millisecond), p99[h].Round(time.Millisecond), len(ts))
	}
	for _, h := range []string{"sysgate", "sysgate-shim"} {
		b.ReportMetric(float64(p50[h])/float64(p50["runc"]), h+"-p50/runc")
		b.ReportMetric(float64(p99[h])/float64(p99["runc"]), h+"-p99/runc")
	}
	b.ReportMetric(0, "ns/op")
}
