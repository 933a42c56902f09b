//go:build soak

package cri

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSoak churns Pods through containerd 2.x's CRI on the sysgate handler,
// with the create helper, for SYSGATE_SOAK (default 30m): 100 Pods at a
// time (sandbox and container each), of every kind the scale test makes,
// started, sampled and removed, again and again. The helper's descriptors
// and memory must stay flat, the cache bounded, and the decision log must
// rotate. `make soak` runs it; it is not part of `make test-all`.
func TestSoak(t *testing.T) {
	requireCRI(t)
	duration := 30 * time.Minute
	if v := os.Getenv("SYSGATE_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("SYSGATE_SOAK=%q: %v", v, err)
		}
		duration = d
	}
	f := flavors()[1]
	if _, err := os.Stat(filepath.Join(f.dir, "containerd")); err != nil {
		t.Fatalf("%s: %v (make test-cri builds it)", f.name, err)
	}
	d := startDaemon(t, f)
	const maxLog = 256 << 10
	d.writePolicy(t, fmt.Sprintf("decision_log_max_bytes = %d", maxLog))
	if d.helper == nil {
		t.Fatal("containerd 2.x runs without a helper")
	}
	type sample struct {
		round, pods, fds     int
		rssKB                int
		cacheFiles           int
		cacheBytes, logBytes int64
		rotated              bool
	}
	take := func(round, pods int) sample {
		s := sample{round: round, pods: pods}
		pid := d.helper.Pid()
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		s.fds = len(fds)
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		s.rssKB, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(statusField(string(status), "VmRSS")), " kB"))
		entries, _ := os.ReadDir(filepath.Join(d.dir, "bpf-cache"))
		for _, e := range entries {
			if info, err := e.Info(); err == nil {
				s.cacheFiles++
				s.cacheBytes += info.Size()
			}
		}
		if st, err := os.Stat(d.decisionLog); err == nil {
			s.logBytes = st.Size()
		}
		_, err := os.Stat(d.decisionLog + ".1")
		s.rotated = err == nil
		return s
	}
	deadline := time.Now().Add(duration)
	var samples []sample
	total := 0
	for round := 1; time.Now().Before(deadline); round++ {
		const batch = 100
		ids := make([]string, batch)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 20)
		var mu sync.Mutex
		var failures []string
		for i := range batch {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				kind := i % len(scaleKinds)
				p := scaleKinds[kind].pod(fmt.Sprintf("soak-%d-%d", round, i))
				p.Containers = []container{{Name: "app"}}
				rp, err := d.runPod(t, handlerSysgate, p)
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					return
				}
				ids[i] = rp.ID
				// Every tenth: the kernel holds the filter the Pod asked for.
				if i%10 == 0 {
					out, _, err := d.crictlErr("inspect", "-o", "go-template", "--template", "{{.info.pid}}", rp.Containers["app"])
					pid, perr := strconv.Atoi(strings.TrimSpace(out))
					if err == nil && perr == nil {
						status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
						want := map[bool]string{true: "2", false: "0"}[scaleKinds[kind].want(d.flavor).filtered]
						if got := statusField(string(status), "Seccomp"); got != want {
							mu.Lock()
							failures = append(failures, fmt.Sprintf("%s: Seccomp %s, want %s", p.Name, got, want))
							mu.Unlock()
						}
					}
				}
			}()
		}
		wg.Wait()
		for _, id := range ids {
			if id == "" {
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				d.crictlErr("rmp", "-f", id)
			}()
		}
		wg.Wait()
		if len(failures) > 0 {
			t.Fatalf("round %d: %d failures, first: %s", round, len(failures), failures[0])
		}
		total += batch
		s := take(round, total)
		samples = append(samples, s)
		t.Logf("round %3d: %5d Pods; helper %d fds, %d kB; cache %d files, %d bytes; decision log %d bytes, rotated %v",
			s.round, s.pods, s.fds, s.rssKB, s.cacheFiles, s.cacheBytes, s.logBytes, s.rotated)
	}
	if len(samples) < 3 {
		t.Fatalf("only %d rounds in %s", len(samples), duration)
	}
	first, last := samples[0], samples[len(samples)-1]
	maxRSS := 0
	for _, s := range samples {
		maxRSS = max(maxRSS, s.rssKB)
	}
	t.Logf("%d Pods in %d rounds; helper fds %d -> %d, RSS %d -> %d kB (peak %d); cache %d -> %d files; decision log rotated: %v",
		last.pods, len(samples), first.fds, last.fds, first.rssKB, last.rssKB, maxRSS, first.cacheFiles, last.cacheFiles, last.rotated)
	if last.fds > first.fds+4 {
		t.Errorf("the helper's descriptors grew from %d to %d", first.fds, last.fds)
	}
	if maxRSS > 16<<10 || last.rssKB > 2*first.rssKB {
		t.Errorf("the helper's memory grew: %d kB after the first round, %d at the end, %d at the peak (bound 16 MB)", first.rssKB, last.rssKB, maxRSS)
	}
	if last.cacheFiles > first.cacheFiles+2 {
		t.Errorf("the cache grew from %d to %d files for the same few profiles", first.cacheFiles, last.cacheFiles)
	}
	if !last.rotated || last.logBytes > maxLog+4096 {
		t.Errorf("decision log: %d bytes, rotated %v; want at most %d and a .1", last.logBytes, last.rotated, maxLog)
	}
}
