package denials

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/integration/probetest"
)

// childEnv makes the test binary the filtered child: it loads a filter
// that denies mkdir with SECCOMP_FILTER_FLAG_LOG and execs the i386
// program named in it.
const childEnv = "SYSGATE_DENIALS_I386_CHILD"

// stormEnv makes the test binary a child that loads a filter denying
// mkdir with SECCOMP_FILTER_FLAG_LOG and makes that many denied calls.
const stormEnv = "SYSGATE_DENIALS_STORM_CHILD"

func TestMain(m *testing.M) {
	if prog := os.Getenv(childEnv); prog != "" {
		os.Exit(filteredExec(prog))
	}
	if n := os.Getenv(stormEnv); n != "" {
		os.Exit(filteredStorm(n))
	}
	os.Exit(m.Run())
}

func loadDenyMkdir() error {
	p, err := filter.Compile(&specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86},
		Flags:         []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog},
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno}},
	}, filter.Options{})
	if err != nil {
		return err
	}
	_, err = filter.Load(p, filter.LoadOptions{NoNewPrivs: true})
	return err
}

func filteredStorm(count string) int {
	runtime.LockOSThread()
	var n int
	fmt.Sscan(count, &n)
	if err := loadDenyMkdir(); err != nil {
		fmt.Fprintln(os.Stderr, "filter:", err)
		return 3
	}
	denied := 0
	for range n {
		if err := syscall.Mkdir("/sysgate-storm", 0o755); err == syscall.EPERM {
			denied++
		}
	}
	fmt.Println(denied)
	return 0
}

func filteredExec(prog string) int {
	runtime.LockOSThread()
	if err := loadDenyMkdir(); err != nil {
		fmt.Fprintln(os.Stderr, "filter:", err)
		return 3
	}
	err := syscall.Exec(prog, []string{prog, filepath.Join(os.TempDir(), "sysgate-i386-denied")}, os.Environ())
	fmt.Fprintln(os.Stderr, "exec:", err)
	return 3
}

// TestKernelI386DenialIsNamedI386 runs on every VM-tier kernel
// (kernel-tests.sh): an i386 program's mkdir under a filter (the int $0x80
// path: seccomp sees AUDIT_ARCH_I386) reaches the collector as an i386
// mkdir, flagged as an ABI-bypass attempt, not as x86_64's syscall 39
// (getpid).
func TestKernelI386DenialIsNamedI386(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("reading seccomp records needs root (CAP_AUDIT_READ or /dev/kmsg)")
	}
	probetest.HoldKernelLog(t)
	if s := filter.HostABI(filter.ABII386); !s.Live {
		t.Skipf("this kernel runs no i386 code (%s); the VM tier's guests do", s.Reason)
	}
	mkdir32 := os.Getenv("SYSGATE_PROBE32")
	if mkdir32 == "" {
		t.Skip("SYSGATE_PROBE32 names no static i386 mkdir program (kernel-tests.sh sets it; make vm-payload builds it)")
	}
	c := &Collector{DenialLog: filepath.Join(t.TempDir(), "denials.jsonl")}
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
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), childEnv+"="+mkdir32)
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "mkdir32 errno 1\n" {
		t.Fatalf("the filtered i386 mkdir: %v: %q (want errno 1, EPERM)", err, out)
	}
	pid := cmd.Process.Pid
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		rep, err := ReadLog(c.DenialLog)
		if err != nil {
			continue
		}
		for _, d := range rep.Denials {
			if d.Pid != pid {
				continue
			}
			if d.ABI != "i386" || d.Syscall != "mkdir" || !d.ABIBypass || d.Action != "SCMP_ACT_ERRNO" {
				t.Fatalf("the i386 denial reads %+v", d)
			}
			t.Logf("source %s: %+v", d.SourceName, d)
			return
		}
	}
	rep, _ := ReadLog(c.DenialLog)
	t.Fatalf("no record of pid %d's i386 mkdir in 5 s: %+v", pid, rep)
}
