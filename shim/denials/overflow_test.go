package denials

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sysgate/sysgate/integration/probetest"
)

// A socket too small for a storm overflows; the records lost at its end
// would show as a gap only at a next record that may never come, so the
// collector makes one: reported plus lost covers what the process saw.
func TestOverflowIsCountedLost(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("reading the audit read-log group needs root")
	}
	probetest.HoldKernelLog(t)
	if testing.Short() {
		t.Skip("a storm of 20,000 audit records")
	}
	st, err := GetAuditStatus()
	if err != nil {
		t.Skipf("no audit in this kernel: %v", err)
	}
	if st.Enabled == 0 {
		if err := SetAuditEnabled(true); err != nil {
			t.Fatal(err)
		}
		defer SetAuditEnabled(false)
	}
	if err := SetAuditBacklogLimit(8192); err != nil {
		t.Fatal(err)
	}
	defer SetAuditBacklogLimit(st.BacklogLimit)
	c := &Collector{DenialLog: filepath.Join(t.TempDir(), "denials.jsonl"), Source: "netlink", SocketBuffer: 64 << 10}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("collector: %v", err)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	self, _ := os.Executable()
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), stormEnv+"=20000")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("storm child: %v", err)
	}
	observed, _ := strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64)
	pid := cmd.Process.Pid
	var reported uint64
	var lost Lost
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		rep, err := ReadLog(c.DenialLog)
		if err != nil {
			continue
		}
		reported, lost = 0, rep.Lost
		for _, d := range rep.Denials {
			if d.Pid == pid {
				reported += d.Count
			}
		}
		if reported+lost.Total() >= observed {
			break
		}
	}
	t.Logf("observed %d, reported %d, lost %d (gaps %d, kernel %d), overflows %d", observed, reported, lost.Total(), lost.Gaps, lost.KernelLost, lost.Overruns)
	if observed != 20000 {
		t.Errorf("the child saw %d of 20000 calls denied", observed)
	}
	if reported+lost.Total() < observed {
		t.Errorf("silent undercount: reported %d + lost %d < observed %d", reported, lost.Total(), observed)
	}
	if reported > observed {
		t.Errorf("reported %d, more than the %d made", reported, observed)
	}
}
