package filter_test

// A second way to re-execute the test binary, for kernel tests that must look
// at the loading process itself rather than at a program it execs: other
// threads (TSYNC), the speculation status (SPEC_ALLOW) and the
// user-notification fd (NOTIFY). kernel_test.go's loader execs right after
// loading, which throws all of that away.
//
// The helper runs from init, before the testing package parses flags, so its
// command line is free-form and no pseudo-test shows up as a skip.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/bpf"
	"golang.org/x/sys/unix"
)

// helperEnv selects the helper mode; it is removed before the helper execs
// anything, so that a child does not become a helper too.
const helperEnv = "SYSGATE_KERNEL_TEST_HELPER"

const (
	helperThreads = "threads" // BPF FLAGS DIR: load, then mkdir from this thread and from another one
	helperSpec    = "spec"    // BPF FLAGS: load, then print Speculation_Store_Bypass
	helperNotify  = "notify"  // BPF FLAGS SOCKET -- CMD...: load, send the listener fd, exec CMD
)

func init() {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Unsetenv(helperEnv)
		os.Exit(helperMain(mode, os.Args[1:]))
	}
}

// threadsReport is what the threads helper prints.
type threadsReport struct {
	Self          string `json:"self"`           // outcome of mkdir on the loading thread
	Peer          string `json:"peer"`           // outcome of mkdir on a thread started before loading
	Tasks         int    `json:"tasks"`          // threads in the process
	FilteredTasks int    `json:"filtered_tasks"` // threads whose status says Seccomp: 2
}

func helperMain(mode string, args []string) int {
	// The filter belongs to the thread that loads it; keep this goroutine
	// on it so that "self" means the loading thread.
	runtime.LockOSThread()
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "helper: usage: MODE-ARGS: BPF FLAGS ...")
		return 125
	}
	prog, err := readProgram(args[0], args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 125
	}
	switch mode {
	case helperThreads:
		return helperThreadsMain(prog, args[2:])
	case helperSpec:
		if _, err := filter.Load(prog, filter.LoadOptions{NoNewPrivs: true}); err != nil {
			fmt.Fprintln(os.Stderr, "helper: load:", err)
			return 125
		}
		fmt.Println(statusField("/proc/thread-self/status", "Speculation_Store_Bypass"))
		return 0
	case helperNotify:
		return helperNotifyMain(prog, args[2:])
	}
	fmt.Fprintln(os.Stderr, "helper: unknown mode", mode)
	return 125
}

func readProgram(path, flags string) (*filter.Program, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	insns, err := bpf.Decode(raw)
	if err != nil {
		return nil, err
	}
	bits, err := strconv.ParseUint(flags, 10, 32)
	if err != nil {
		return nil, err
	}
	return &filter.Program{Instructions: insns, Flags: uint(bits)}, nil
}

func helperThreadsMain(prog *filter.Program, args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "helper: threads needs DIR")
		return 125
	}
	dir := args[0]
	// The peer thread exists before the filter is loaded: only TSYNC can
	// reach it afterwards.
	requests := make(chan string)
	replies := make(chan string)
	go func() {
		runtime.LockOSThread()
		for path := range requests {
			replies <- mkdirOutcome(path)
		}
	}()
	requests <- filepath.Join(dir, "warm-up")
	<-replies

	if _, err := filter.Load(prog, filter.LoadOptions{NoNewPrivs: true}); err != nil {
		fmt.Fprintln(os.Stderr, "helper: load:", err)
		return 125
	}
	var rep threadsReport
	rep.Self = mkdirOutcome(filepath.Join(dir, "self"))
	requests <- filepath.Join(dir, "peer")
	rep.Peer = <-replies
	tasks, _ := filepath.Glob("/proc/self/task/*/status")
	for _, st := range tasks {
		rep.Tasks++
		if statusField(st, "Seccomp") == "2" {
			rep.FilteredTasks++
		}
	}
	out, _ := json.Marshal(rep)
	fmt.Println(string(out))
	return 0
}

func helperNotifyMain(prog *filter.Program, args []string) int {
	if len(args) < 3 || args[1] != "--" {
		fmt.Fprintln(os.Stderr, "helper: notify needs SOCKET -- CMD...")
		return 125
	}
	fd, err := filter.Load(prog, filter.LoadOptions{NoNewPrivs: true})
	if err == nil && fd < 0 {
		err = fmt.Errorf("the program has flags %v but Load returned no listener fd", prog.FlagNames())
	}
	if err == nil {
		err = filter.SendListener(args[0], "sysgate-kernel-test", specs.State{Version: specs.Version, ID: "kernel-test", Status: specs.StateCreated, Pid: os.Getpid()}, fd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 125
	}
	// The agent holds its own copy now; ours must not leak into the
	// program under test.
	unix.Close(fd)
	err = syscall.Exec(args[2], args[2:], os.Environ())
	fmt.Fprintln(os.Stderr, "helper: exec:", err)
	return 126
}

func mkdirOutcome(path string) string {
	if err := unix.Mkdir(path, 0o755); err != nil {
		if errno, ok := err.(syscall.Errno); ok {
			return "errno:" + unix.ErrnoName(errno)
		}
		return err.Error()
	}
	return "allowed"
}

// statusField returns the value of "Key:" in a /proc status file, or "".
func statusField(path, key string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// runHelper runs the test binary as a helper for prog and returns its
// stdout; a helper that fails is fatal, since it reports its own errors.
func runHelper(t *testing.T, mode string, prog *filter.Program, args ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "filter.bpf")
	if err := os.WriteFile(path, prog.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	argv := append([]string{path, strconv.FormatUint(uint64(prog.Flags), 10)}, args...)
	out, err := helperCommand(ctx, mode, argv...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("helper %s %v: %v %s", mode, argv, err, stderr)
	}
	return strings.TrimSpace(string(out))
}

func helperCommand(ctx context.Context, mode string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	cmd.WaitDelay = time.Second
	return cmd
}
