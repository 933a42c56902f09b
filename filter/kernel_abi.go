package filter

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// The ABIs a process on an x86_64 kernel can enter the syscall tables
// through. seccomp sees i386 calls as AUDIT_ARCH_I386 and x32 calls as
// AUDIT_ARCH_X86_64 with X32SyscallBit set.
const (
	ABIX86_64 = "x86_64"
	ABII386   = "i386"
	ABIX32    = "x32"
)

// ABIStatus says whether the running kernel offers one ABI.
type ABIStatus struct {
	ABI  string `json:"abi"`
	Live bool   `json:"live"`
	// Reason says why the ABI is not live ("IA-32 emulation off"), or why
	// the probe could not tell; empty when Live.
	Reason string `json:"reason,omitempty"`
}

func (s ABIStatus) String() string {
	if s.Live {
		return s.ABI + " yes"
	}
	return fmt.Sprintf("%s no (%s)", s.ABI, s.Reason)
}

// HostABIs probes, once per process, which ABIs the running kernel offers:
// x86_64, i386 (int $0x80 from a 64-bit process, and the exec of an i386
// binary) and x32. Each probe is a tiny static program run as a child, so
// that a kernel which faults the entry (IA-32 emulation off: int $0x80 gets
// SIGSEGV) only ends the child. A kernel can lack IA-32 (ia32_emulation=
// false, or built without it) and x32 (the usual case): these are node
// configurations, not faults, and whatever depends on an ABI asks here.
func HostABIs() []ABIStatus {
	hostABIsOnce.Do(func() { hostABIs = probeHostABIs() })
	return append([]ABIStatus(nil), hostABIs...)
}

// HostABI is HostABIs' entry for one ABI; an ABI it does not know is not
// live.
func HostABI(abi string) ABIStatus {
	for _, s := range HostABIs() {
		if s.ABI == abi {
			return s
		}
	}
	return ABIStatus{ABI: abi, Reason: "not an ABI of this machine's architecture"}
}

// FormatABIs is the one-line form `sysgate version` prints:
// "x86_64 yes, i386 no (IA-32 emulation off), x32 no (x32 ABI off)".
func FormatABIs(abis []ABIStatus) string {
	parts := make([]string, len(abis))
	for i, s := range abis {
		parts[i] = s.String()
	}
	return strings.Join(parts, ", ")
}

var (
	hostABIsOnce sync.Once
	hostABIs     []ABIStatus
)

func probeHostABIs() []ABIStatus {
	if runtime.GOARCH != "amd64" {
		return []ABIStatus{{ABI: runtime.GOARCH, Live: true}}
	}
	return []ABIStatus{
		{ABI: ABIX86_64, Live: true}, // this process runs on it
		probeI386(),
		probeX32(),
	}
}

func probeI386() ABIStatus {
	st := ABIStatus{ABI: ABII386}
	outcome, err := runABIProgram(int80GetpidProgram())
	switch {
	case err != nil:
		st.Reason = "unknown: " + err.Error()
	case outcome == abiSignal(unix.SIGSEGV):
		st.Reason = "IA-32 emulation off"
	case outcome != abiCallOK:
		st.Reason = describeFailedProbe("int $0x80", outcome)
	default:
		outcome, err = runABIProgram(i386ExitProgram())
		switch {
		case errors.Is(err, unix.ENOEXEC):
			st.Reason = "IA-32 emulation off: i386 binaries do not exec"
		case err != nil:
			st.Reason = "unknown: " + err.Error()
		case outcome != abiCallOK:
			st.Reason = describeFailedProbe("an i386 binary", outcome)
		default:
			st.Live = true
		}
	}
	return st
}

func probeX32() ABIStatus {
	st := ABIStatus{ABI: ABIX32}
	outcome, err := runABIProgram(x32GetpidProgram())
	switch {
	case err != nil:
		st.Reason = "unknown: " + err.Error()
	case outcome == abiCallFailed:
		st.Reason = "x32 ABI off"
	case outcome != abiCallOK:
		st.Reason = describeFailedProbe("an x32 call", outcome)
	default:
		st.Live = true
	}
	return st
}

func describeFailedProbe(what, outcome string) string {
	if outcome == abiSignal(unix.SIGSYS) {
		return "unknown: " + what + " was stopped by a seccomp filter on this process"
	}
	return "unknown: " + what + " ended with " + outcome
}

// Outcomes of one probe program.
const (
	abiCallOK     = "exit:0" // the call returned a non-negative value
	abiCallFailed = "exit:1" // the call returned an error (-ENOSYS)
)

func abiSignal(sig unix.Signal) string { return "killed:" + unix.SignalName(sig) }

// runABIProgram runs an ELF image from a memfd: nothing is written to disk,
// and no directory's noexec or ownership matters.
func runABIProgram(image []byte) (string, error) {
	fd, err := unix.MemfdCreate("sysgate-abi-probe", unix.MFD_CLOEXEC|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) { // kernels before 6.3 know no MFD_EXEC
		fd, err = unix.MemfdCreate("sysgate-abi-probe", unix.MFD_CLOEXEC)
	}
	if err != nil {
		return "", fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "sysgate-abi-probe")
	defer f.Close()
	if _, err := f.Write(image); err != nil {
		return "", fmt.Errorf("writing the probe program: %w", err)
	}
	// The child execs its own copy of the descriptor; the kernel opens the
	// file before close-on-exec closes it.
	cmd := exec.Command(fmt.Sprintf("/proc/self/fd/%d", fd))
	err = cmd.Run()
	var pathErr *os.PathError
	if errors.As(err, &pathErr) {
		return "", pathErr.Err
	}
	if cmd.ProcessState == nil {
		return "", err
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return abiSignal(ws.Signal()), nil
	}
	return fmt.Sprintf("exit:%d", ws.ExitStatus()), nil
}
