package cri

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sysgate/sysgate/integration/stats"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// BenchmarkPodStart times what the kubelet waits for when it starts a
// Pod: RunPodSandbox, CreateContainer and StartContainer of a Pod with a
// Pod-level RuntimeDefault profile, called over the CRI socket directly
// (crictl's own process start would blur the difference), on the plain
// runc handler and each sysgate handler in turn, then plain crun and
// sysgate's handlers with crun (crun_test.go; ratios to plain crun, too).
// p99 is the largest sample below 100 iterations. Each iteration runs every
// handler once, in rotating order, and reports medians and the median of
// the per-iteration ratios sysgate/runc, which is robust against other
// load on a shared machine. Removal is not timed.
func BenchmarkPodStart(b *testing.B) {
	requireCRI(b)
	for _, f := range flavors() {
		b.Run(f.name, func(b *testing.B) {
			if _, err := os.Stat(filepath.Join(f.dir, "containerd")); err != nil {
				b.Skipf("%s not installed", f.name)
			}
			d := startDaemon(b, f)
			conn, err := grpc.NewClient("unix://"+d.sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			rs := runtimeapi.NewRuntimeServiceClient(conn)
			handlers := append([]string{handlerRunc}, sysgateHandlers(d)...)
			handlers = append(handlers, crunHandlers(d)...)
			p := pod{Name: "bench", Seccomp: runtimeDefault, Containers: []container{{Name: "app"}}}
			dir := b.TempDir()
			for _, h := range handlers {
				// Warm up: the first sysgate create compiles the filter
				// into the node's cache, once per node, not per Pod.
				podStart(b, rs, h, p, dir)
			}
			times := map[string][]float64{}
			ratios := map[string][]float64{}
			crunRatios := map[string][]float64{} // crun handlers against plain crun
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				took := map[string]time.Duration{}
				for j := range handlers {
					h := handlers[(i+j)%len(handlers)]
					took[h] = podStart(b, rs, h, p, dir)
					times[h] = append(times[h], float64(took[h].Microseconds())/1000)
				}
				for _, h := range handlers[1:] {
					ratios[h] = append(ratios[h], float64(took[h])/float64(took[handlerRunc]))
				}
				if _, ok := took[handlerCrun]; ok {
					for _, h := range crunHandlers(d)[1:] {
						crunRatios[h] = append(crunRatios[h], float64(took[h])/float64(took[handlerCrun]))
					}
				}
			}
			b.StopTimer()
			for _, h := range handlers {
				b.ReportMetric(stats.Median(times[h]), h+"-ms")
				b.ReportMetric(stats.Percentile(times[h], 99), h+"-p99-ms")
			}
			for _, h := range handlers[1:] {
				b.ReportMetric(stats.Median(ratios[h]), h+"/runc")
			}
			for _, h := range crunHandlers(d)[min(1, len(crunHandlers(d))):] {
				b.ReportMetric(stats.Median(crunRatios[h]), h+"/crun")
			}
		})
	}
}

// podStart starts one Pod on handler and returns how long the three CRI
// calls took; it then removes the Pod.
func podStart(b *testing.B, rs runtimeapi.RuntimeServiceClient, handler string, p pod, dir string) time.Duration {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sb := sandboxConfig(p, dir)
	cc := containerConfig(p, p.Containers[0], "")
	start := time.Now()
	run, err := rs.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: sb, RuntimeHandler: handler})
	if err != nil {
		b.Fatalf("%s: RunPodSandbox: %v", handler, err)
	}
	defer func() {
		rs.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: run.PodSandboxId})
		if _, err := rs.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: run.PodSandboxId}); err != nil {
			b.Errorf("RemovePodSandbox: %v", err)
		}
	}()
	created, err := rs.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: run.PodSandboxId, Config: cc, SandboxConfig: sb})
	if err != nil {
		b.Fatalf("%s: CreateContainer: %v", handler, err)
	}
	if _, err := rs.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: created.ContainerId}); err != nil {
		b.Fatalf("%s: StartContainer: %v", handler, err)
	}
	return time.Since(start)
}
