package observe

import (
	"errors"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"
)

// timeLoop runs the witness's loop mode (n getppid calls under a filter)
// and returns how long the loop took, recorded or not. bystander: a
// recording of another tree is active meanwhile, so the run measures what
// every other process on the node pays for it.
func timeLoop(b *testing.B, bin string, n int, recorded, bystander bool) time.Duration {
	cmd := exec.Command(bin, "loop", strconv.Itoa(n))
	stdin, _ := cmd.StdinPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	root := cmd.Process.Pid
	if bystander {
		other := exec.Command("sleep", "60")
		if err := other.Start(); err != nil {
			b.Fatal(err)
		}
		defer func() { other.Process.Kill(); other.Wait() }()
		root = other.Process.Pid
	}
	if recorded || bystander {
		r, err := Start(root)
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
	}
	start := time.Now()
	stdin.Write([]byte{1})
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// BenchmarkRecordOverhead: a syscall-heavy workload (1,000,000 getppid
// under a filter) recorded against the same workload unrecorded, and an
// unrecorded workload while another tree is recorded (the node-wide cost).
// Runs are interleaved and the medians compared; the ratios are the result.
func BenchmarkRecordOverhead(b *testing.B) {
	if err := Available(); errors.Is(err, ErrUnavailable) {
		b.Skip(err)
	} else if err != nil {
		b.Fatal(err)
	}
	bin := buildTreeB(b)
	const n = 1_000_000
	var plain, recorded, bystander []time.Duration
	for i := 0; i < b.N; i++ {
		plain = append(plain, timeLoop(b, bin, n, false, false))
		recorded = append(recorded, timeLoop(b, bin, n, true, false))
		bystander = append(bystander, timeLoop(b, bin, n, false, true))
	}
	med := func(d []time.Duration) float64 {
		s := slices.Clone(d)
		slices.Sort(s)
		return float64(s[len(s)/2])
	}
	b.ReportMetric(med(recorded)/med(plain), "x-recorded/unrecorded")
	b.ReportMetric(med(bystander)/med(plain), "x-bystander/unrecorded")
	b.ReportMetric(med(plain)/n, "ns/syscall-unrecorded")
	b.ReportMetric(med(recorded)/n, "ns/syscall-recorded")
}
