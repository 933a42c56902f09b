package denials

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// The process events connector announces a short-lived child before it
// exits, so the pid cache knows it afterwards. The child lives 20 ms: the
// collector reads /proc/PID when the fork event arrives, and on a loaded
// machine (go test runs packages side by side) a /bin/true can be gone by
// then; such a record is reported unattributed, never misattributed
// (collector tests).
func TestProcEventsCatchAShortLivedChild(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the process events connector needs CAP_NET_ADMIN (root)")
	}
	pe, err := openProcEvents()
	if err != nil {
		t.Fatalf("process events connector: %v", err)
	}
	cache := newPidCache(1 << 16)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go pe.run(ctx, "/proc", cache)
	time.Sleep(100 * time.Millisecond)
	cmd := exec.Command("/bin/sleep", "0.02")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if info, ok := cache.get(pid); ok {
			if len(info.cgroups) == 0 {
				t.Errorf("pid %d cached without cgroups: %+v", pid, info)
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("pid %d (exited) was never announced", pid)
}
