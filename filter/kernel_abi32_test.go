package filter_test

// The ABI-bypass matrix: four ways into mkdir (x86_64 syscall, int $0x80
// from a 64-bit process, the x32 bit, a real i386 binary) under four filters
// (none, a deliberately naive hand-written one, sysgate's x86_64-only and
// sysgate's three-arch filter). The naive filter must be bypassed: that is
// the proof that these tests can see a bypass at all. sysgate's filters must
// never be.
//
// Every cell is logged as "ABI-RESULT filter=F path=P outcome=O bypass=B" so
// that the VM runner can build its per-kernel table from the test output.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sysgate/sysgate/conformance/probe"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/bpf"
	"github.com/sysgate/sysgate/integration/probetest"
	"golang.org/x/sys/unix"
)

// naiveFilter is the mistake the matrix exists to catch: it compares the
// syscall number with x86_64's mkdir and never looks at seccomp_data.arch.
func naiveFilter() *filter.Program {
	const (
		ldAbsW = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeqK   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		retK   = unix.BPF_RET | unix.BPF_K
	)
	return &filter.Program{Instructions: []bpf.Instruction{
		{Code: ldAbsW, K: 0}, // seccomp_data.nr
		{Code: jeqK, Jt: 0, Jf: 1, K: 83},
		{Code: retK, K: bpf.RetErrno | uint32(unix.EPERM)},
		{Code: retK, K: bpf.RetAllow},
	}}
}

const (
	pathX86_64 = "x86_64"
	pathInt80  = "int80"
	pathX32    = "x32"
	pathI386   = "i386-binary"
)

// abiOutcome runs one path under wrap and returns the outcome and whether
// the directory was really created.
func abiOutcome(t *testing.T, probePath, bin32 string, wrap []string, path, dir string) (string, bool) {
	t.Helper()
	target := filepath.Join(dir, fmt.Sprintf("d%d", dirCounter.Add(1)))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out string
	if path == pathI386 {
		argv := append(append([]string{}, wrap...), bin32, target)
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		stdout, err := cmd.Output()
		var ws syscall.WaitStatus
		if cmd.ProcessState != nil {
			ws, _ = cmd.ProcessState.Sys().(syscall.WaitStatus)
		}
		switch {
		case ws.Signaled():
			out = "killed:" + unix.SignalName(ws.Signal())
		case err != nil:
			t.Fatalf("%v: %v", argv, err)
		default:
			out = parseMkdir32(t, string(stdout))
		}
	} else {
		abi := map[string]string{pathX86_64: probe.ABINative, pathInt80: probe.ABII386, pathX32: probe.ABIX32}[path]
		nr := map[string]int64{pathX86_64: 83, pathInt80: 39, pathX32: 83}[path]
		r, err := probe.Run(ctx, probePath, wrap, abi, nr, "s:"+target, "493")
		if err != nil {
			t.Fatal(err)
		}
		out = r.Outcome()
	}
	_, err := os.Stat(target)
	return out, err == nil
}

func parseMkdir32(t *testing.T, stdout string) string {
	line := strings.TrimSpace(stdout)
	if line == "mkdir32 ok" {
		return probe.OutcomeAllowed
	}
	if n, ok := strings.CutPrefix(line, "mkdir32 errno "); ok {
		e, err := strconv.Atoi(n)
		if err == nil {
			return "errno:" + unix.ErrnoName(unix.Errno(e))
		}
	}
	t.Fatalf("mkdir32 printed %q", stdout)
	return ""
}

// TestKernelABIMatrix runs every path the kernel offers. Without IA-32
// emulation the int $0x80 and i386-binary paths do not exist (int $0x80
// faults before seccomp sees it; i386 binaries do not exec), so they are
// skipped there, and run wherever the kernel has them (the VM tier).
func TestKernelABIMatrix(t *testing.T) {
	requireSeccomp(t)
	probePath := probetest.BuildForTest(t)
	i386Live := filter.HostABI(filter.ABII386).Live
	x32Live := filter.HostABI(filter.ABIX32).Live
	paths := []string{pathX86_64, pathX32}
	var bin32 string
	if i386Live {
		paths = append(paths, pathInt80, pathI386)
		bin32 = probetest.Build32ForTest(t)
		t.Log("ABI-RAN abi=i386")
	} else {
		t.Logf("ABI-SKIP abi=i386: the int80 and i386-binary paths are left out (%s)", filter.HostABI(filter.ABII386).Reason)
	}
	if x32Live {
		t.Log("ABI-INFO x32=live: x32 calls reach the syscall table, so blocking them is the strong result")
	} else {
		t.Log("ABI-INFO x32=off: the kernel answers x32 calls with ENOSYS (x32 not built, or syscall.x32=y not set); the filters still see them first")
	}
	// The naive filter must be bypassed through every live foreign path:
	// fewer means the matrix has gone blind.
	naiveBypasses := 0
	if i386Live {
		naiveBypasses += 2
	}
	if x32Live {
		naiveBypasses++
	}
	_, only64 := compileJSON(t, `{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`)
	_, all3 := compileJSON(t, blockMkdir("SCMP_ACT_ERRNO", ""))

	x32Open := "errno:ENOSYS"
	if x32Live {
		x32Open = probe.OutcomeAllowed
	}
	filters := []struct {
		name string
		prog *filter.Program
		want map[string]string
	}{
		{"none", nil, map[string]string{pathX86_64: "allowed", pathInt80: "allowed", pathX32: x32Open, pathI386: "allowed"}},
		{"naive-bpf", naiveFilter(), map[string]string{pathX86_64: "errno:EPERM", pathInt80: "allowed", pathX32: x32Open, pathI386: "allowed"}},
		{"sysgate-x86_64-only", only64, map[string]string{pathX86_64: "errno:EPERM", pathInt80: "killed:SIGSYS", pathX32: "killed:SIGSYS", pathI386: "killed:SIGSYS"}},
		{"sysgate-all-arches", all3, map[string]string{pathX86_64: "errno:EPERM", pathInt80: "errno:EPERM", pathX32: "errno:EPERM", pathI386: "errno:EPERM"}},
	}
	dir := t.TempDir()
	for _, f := range filters {
		t.Run(f.name, func(t *testing.T) {
			var wrap []string
			if f.prog != nil {
				wrap = loaderFor(t, f.prog)
			}
			bypasses := 0
			for _, path := range paths {
				got, made := abiOutcome(t, probePath, bin32, wrap, path, dir)
				bypass := f.prog != nil && made
				if bypass {
					bypasses++
				}
				t.Logf("ABI-RESULT filter=%s path=%s outcome=%s bypass=%v", f.name, path, got, bypass)
				if want := f.want[path]; got != want {
					t.Errorf("%s: %s, want %s", path, got, want)
				}
				if f.prog != nil && path != pathI386 {
					c := call{abi: map[string]string{pathX86_64: "", pathInt80: "i386", pathX32: "x32"}[path], name: "mkdir", args: []string{"path", "493"}}
					if interp, ret := interpreterOutcome(t, probePath, dir, f.prog, c); interp != got {
						t.Errorf("%s: the interpreter says %s (%s), but the kernel did %s", path, interp, bpf.RetName(ret), got)
					}
				}
				if made != (got == probe.OutcomeAllowed) {
					t.Errorf("%s: outcome %s but directory created = %v", path, got, made)
				}
			}
			switch {
			case strings.HasPrefix(f.name, "sysgate") && bypasses != 0:
				t.Errorf("%d bypasses of a sysgate filter", bypasses)
			case f.name == "naive-bpf" && bypasses != naiveBypasses:
				t.Errorf("the naive filter was bypassed %d times, want %d (int $0x80 and the i386 binary where IA-32 is live, x32 where it is live): the bypass tests cannot see bypasses", bypasses, naiveBypasses)
			}
		})
	}
}
