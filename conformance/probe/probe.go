package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The ABIs the probe can call through.
const (
	ABINative = "native" // x86_64: the syscall instruction
	ABII386   = "i386"   // int $0x80 from the 64-bit probe; seccomp sees AUDIT_ARCH_I386
	ABIX32    = "x32"    // syscall with nr|0x40000000; seccomp sees AUDIT_ARCH_X86_64
)

// Outcomes that Result.Outcome returns as they are; the others are
// "errno:NAME" (e.g. "errno:EPERM"), "killed:SIGNAME" (e.g. "killed:SIGSYS"),
// "signal:SIGNAME" (SIGSYS caught but not sent by seccomp) and "exit:N" (no
// report).
const (
	OutcomeAllowed = "allowed"
	OutcomeTrap    = "trap"
)

// DefaultTimeout bounds Run and ReadStatus when ctx has no deadline, so that
// a call that blocks (or a filter that makes it block) fails the test instead
// of hanging it.
const DefaultTimeout = 30 * time.Second

// sysSeccomp is the si_code of a SIGSYS raised by SECCOMP_RET_TRAP.
const sysSeccomp = 1

// Result is what one probe run showed.
type Result struct {
	ABI     string // as the probe reports it; empty when it reported nothing
	Nr      int64  // the number asked for, without the x32 bit
	Ret     int64  // the syscall's return value; -1 on failure
	Errno   int    // 0 on success
	Errname string // e.g. "EPERM"; "E<n>" for numbers the probe does not name

	// Set when the probe's SIGSYS handler ran (SECCOMP_RET_TRAP).
	Signal    string // "SIGSYS"
	SiCode    int    // 1 (SYS_SECCOMP) when seccomp raised it
	SiSyscall int64  // the number the kernel saw, x32 bit included
	SiArch    uint32 // AUDIT_ARCH_* the kernel saw
	SiErrno   int    // SECCOMP_RET_DATA of the TRAP action

	KilledBy string // signal name from the wait status, e.g. "SIGSYS"; empty if the process exited
	ExitCode int    // exit status; -1 when killed
}

// Outcome returns the canonical verdict, for comparing with an expected one:
// "killed:SIGSYS" when a signal ended the process (SECCOMP_RET_KILL_*),
// "trap" when the SIGSYS handler ran with si_code SYS_SECCOMP
// (SECCOMP_RET_TRAP), "errno:EPERM" style when the call failed (including
// SECCOMP_RET_ERRNO), "allowed" when it succeeded, "signal:SIGSYS" for a
// SIGSYS not raised by seccomp and "exit:N" when the probe reported nothing.
func (r Result) Outcome() string {
	switch {
	case r.KilledBy != "":
		return "killed:" + r.KilledBy
	case r.Signal == "SIGSYS" && r.SiCode == sysSeccomp:
		return OutcomeTrap
	case r.Signal != "":
		return "signal:" + r.Signal
	case r.ABI == "":
		return "exit:" + strconv.Itoa(r.ExitCode)
	case r.Errno != 0:
		if r.Errname == "" {
			return "errno:E" + strconv.Itoa(r.Errno)
		}
		return "errno:" + r.Errname
	default:
		return OutcomeAllowed
	}
}

// report is the probe's JSON line.
type report struct {
	ABI       string `json:"abi"`
	Nr        int64  `json:"nr"`
	Ret       *int64 `json:"ret"`
	Errno     int    `json:"errno"`
	Errname   string `json:"errname"`
	Signal    string `json:"signal"`
	SiCode    int    `json:"si_code"`
	SiSyscall int64  `json:"si_syscall"`
	SiArch    uint32 `json:"si_arch"`
	SiErrno   int    `json:"si_errno"`
}

// Parse combines the probe's stdout with its wait status. A process killed by
// a signal is a result (KilledBy), not an error, and usually printed nothing.
// It is an error when the output is not a probe report, or when the process
// exited without one (non-zero status, e.g. a usage error, or none at all).
func Parse(stdout []byte, state *os.ProcessState) (Result, error) {
	if state == nil {
		return Result{}, errors.New("probe: no process state (did the process run?)")
	}
	var r Result
	r.ExitCode = state.ExitCode()
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		r.KilledBy = signalName(ws.Signal())
	}
	return parseReport(stdout, r)
}

// ParseShell is Parse for a probe run by a shell inside a container, where
// only the shell's $? is known: a status above 128 is death by signal
// status-128, as sh reports it.
func ParseShell(stdout []byte, status int) (Result, error) {
	r := Result{ExitCode: status}
	if status > 128 {
		r.ExitCode, r.KilledBy = -1, signalName(syscall.Signal(status-128))
	}
	return parseReport(stdout, r)
}

// parseReport fills r (whose ExitCode and KilledBy are set) from the
// probe's stdout.
func parseReport(stdout []byte, r Result) (Result, error) {
	line := lastLine(stdout)
	if line == nil {
		if r.KilledBy != "" {
			return r, nil
		}
		return r, fmt.Errorf("probe: exited with status %d and printed no report", r.ExitCode)
	}
	var rep report
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		return r, fmt.Errorf("probe: output is not a report: %q: %w", line, err)
	}
	if rep.ABI == "" || (rep.Ret == nil) == (rep.Signal == "") {
		return r, fmt.Errorf("probe: output is not a report: %q", line)
	}
	if r.KilledBy == "" && r.ExitCode != 0 {
		return r, fmt.Errorf("probe: exited with status %d after reporting %q", r.ExitCode, line)
	}
	r.ABI, r.Nr = rep.ABI, rep.Nr
	if rep.Ret != nil {
		r.Ret, r.Errno, r.Errname = *rep.Ret, rep.Errno, rep.Errname
	}
	r.Signal, r.SiCode, r.SiSyscall, r.SiArch, r.SiErrno = rep.Signal, rep.SiCode, rep.SiSyscall, rep.SiArch, rep.SiErrno
	return r, nil
}

// lastLine returns the last non-empty line of out, or nil. The probe prints
// one line; a wrapper may print before it.
func lastLine(out []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	if l := bytes.TrimSpace(lines[len(lines)-1]); len(l) > 0 {
		return l
	}
	return nil
}

// Run runs `wrap... probePath --abi abi nr args...` and returns its Result.
// wrap is a command prefix, such as a loader that installs a filter and execs
// the rest of its arguments; it may be empty. An empty abi means native. The
// run is bounded by ctx, or by DefaultTimeout when ctx has no deadline. The
// error is non-nil only when the probe could not run (including a usage
// error or a timeout) or printed something that is not a report; a probe
// killed by a signal is a Result with KilledBy set.
func Run(ctx context.Context, probePath string, wrap []string, abi string, nr int64, args ...string) (Result, error) {
	if abi == "" {
		abi = ABINative
	}
	argv := append(append([]string{}, wrap...), probePath, "--abi", abi, strconv.FormatInt(nr, 10))
	argv = append(argv, args...)
	stdout, state, err := run(ctx, argv)
	if err != nil {
		return Result{}, err
	}
	res, err := Parse(stdout.out, state)
	if err != nil {
		return res, fmt.Errorf("%s: %w%s", strings.Join(argv, " "), err, stdout.stderrSuffix())
	}
	return res, nil
}

// Status is what `sysgate-probe --status` reads from /proc/self/status; -1
// for a field the kernel does not show.
type Status struct {
	Seccomp        int // 0 none, 1 strict, 2 filter
	SeccompFilters int // filters attached to the probe
	NoNewPrivs     int
}

// ParseStatus parses the output of `sysgate-probe --status`.
func ParseStatus(stdout []byte) (Status, error) {
	line := lastLine(stdout)
	var wire struct {
		Seccomp        *int `json:"seccomp"`
		SeccompFilters *int `json:"seccomp_filters"`
		NoNewPrivs     *int `json:"no_new_privs"`
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&wire); err != nil || wire.Seccomp == nil || wire.SeccompFilters == nil || wire.NoNewPrivs == nil {
		return Status{}, fmt.Errorf("probe: output is not a status report: %q", line)
	}
	return Status{*wire.Seccomp, *wire.SeccompFilters, *wire.NoNewPrivs}, nil
}

// ReadStatus runs `wrap... probePath --status`, bounded like Run, and returns
// the seccomp state the probe saw: how a test proves that a wrapper really
// installed a filter.
func ReadStatus(ctx context.Context, probePath string, wrap []string) (Status, error) {
	argv := append(append([]string{}, wrap...), probePath, "--status")
	out, state, err := run(ctx, argv)
	if err != nil {
		return Status{}, err
	}
	if !state.Success() {
		return Status{}, fmt.Errorf("%s: %s%s", strings.Join(argv, " "), state, out.stderrSuffix())
	}
	s, err := ParseStatus(out.out)
	if err != nil {
		return s, fmt.Errorf("%s: %w%s", strings.Join(argv, " "), err, out.stderrSuffix())
	}
	return s, nil
}

type output struct{ out, err []byte }

func (o output) stderrSuffix() string {
	if e := bytes.TrimSpace(o.err); len(e) > 0 {
		return "; stderr: " + string(e)
	}
	return ""
}

// run starts argv with stdin from /dev/null and waits for it. The error is
// non-nil when it could not start or did not finish in time; an exit status
// or a signal is left to the caller.
func run(ctx context.Context, argv []string) (output, *os.ProcessState, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A wrapper's stray child holding stdout open must not stall Wait.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	o := output{stdout.Bytes(), stderr.Bytes()}
	if ctx.Err() != nil {
		return o, nil, fmt.Errorf("%s: %w%s", strings.Join(argv, " "), ctx.Err(), o.stderrSuffix())
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return o, nil, fmt.Errorf("running the probe: %w", err)
	}
	return o, cmd.ProcessState, nil
}

var signalNames = map[syscall.Signal]string{
	syscall.SIGABRT: "SIGABRT",
	syscall.SIGBUS:  "SIGBUS",
	syscall.SIGFPE:  "SIGFPE",
	syscall.SIGHUP:  "SIGHUP",
	syscall.SIGILL:  "SIGILL",
	syscall.SIGINT:  "SIGINT",
	syscall.SIGKILL: "SIGKILL",
	syscall.SIGPIPE: "SIGPIPE",
	syscall.SIGQUIT: "SIGQUIT",
	syscall.SIGSEGV: "SIGSEGV",
	syscall.SIGSYS:  "SIGSYS",
	syscall.SIGTERM: "SIGTERM",
	syscall.SIGTRAP: "SIGTRAP",
	syscall.SIGXCPU: "SIGXCPU",
	syscall.SIGXFSZ: "SIGXFSZ",
}

// signalName names sig as in <signal.h> (syscall.Signal.String gives the
// description instead: "bad system call").
func signalName(sig syscall.Signal) string {
	if n, ok := signalNames[sig]; ok {
		return n
	}
	return "SIG" + strconv.Itoa(int(sig))
}
