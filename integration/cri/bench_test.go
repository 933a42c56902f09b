package cri

import (
	"context"
	"os"
	"os/exec"
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
// On the crun node (crunNodeFlavor) the deploy snippet's sysgate handlers
// run crun themselves, with no wrapper choosing their policy, and are
// timed against plain crun. Removal is not timed.
func BenchmarkPodStart(b *testing.B) {
	requireCRI(b)
	all := flavors()
	if _, err := exec.LookPath("crun"); err == nil {
		all = append(all, crunNodeFlavor())
	}
	for _, f := range all {
		b.Run(f.name, func(b *testing.B) {
			if _, err := os.Stat(filepath.Join(f.dir, "containerd")); err != nil {
				b.Skipf("%s not installed", f.name)
			}
			d := startDaemon(b, f)
			var handlers []string
			var ratios [][2]string // handler, the handler it is measured against
			if f.crunNode {
				handlers = append([]string{handlerCrun}, sysgateHandlers(d)...)
				for _, h := range handlers[1:] {
					ratios = append(ratios, [2]string{h, handlerCrun})
				}
			} else {
				handlers = append([]string{handlerRunc}, sysgateHandlers(d)...)
				handlers = append(handlers, crunHandlers(d)...)
				for _, h := range handlers[1:] {
					ratios = append(ratios, [2]string{h, handlerRunc})
				}
				for _, h := range crunHandlers(d)[min(1, len(crunHandlers(d))):] {
					ratios = append(ratios, [2]string{h, handlerCrun})
				}
			}
			podStartRounds(b, d, handlers, ratios)
		})
	}
}

// podStartRounds starts a RuntimeDefault Pod on every handler once per
// iteration, in rotating order, and reports each handler's median and
// p99 (the largest sample below 100 iterations) and, for each pair, the
// median of the per-iteration ratios, which is robust against other load
// on a shared machine.
func podStartRounds(b *testing.B, d *daemon, handlers []string, ratios [][2]string) {
	b.Helper()
	conn, err := grpc.NewClient("unix://"+d.sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	rs := runtimeapi.NewRuntimeServiceClient(conn)
	p := pod{Name: "bench", Seccomp: runtimeDefault, Containers: []container{{Name: "app"}}}
	dir := b.TempDir()
	for _, h := range handlers {
		// Warm up: the first sysgate create compiles the filter into
		// the node's cache, once per node, not per Pod.
		podStart(b, rs, h, p, dir)
	}
	times := map[string][]float64{}
	perPair := make([][]float64, len(ratios))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		took := map[string]time.Duration{}
		for j := range handlers {
			h := handlers[(i+j)%len(handlers)]
			took[h] = podStart(b, rs, h, p, dir)
			times[h] = append(times[h], float64(took[h].Microseconds())/1000)
		}
		for k, r := range ratios {
			perPair[k] = append(perPair[k], float64(took[r[0]])/float64(took[r[1]]))
		}
	}
	b.StopTimer()
	for _, h := range handlers {
		b.ReportMetric(stats.Median(times[h]), h+"-ms")
		b.ReportMetric(stats.Percentile(times[h], 99), h+"-p99-ms")
	}
	for k, r := range ratios {
		b.ReportMetric(stats.Median(perPair[k]), r[0]+"/"+r[1])
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
