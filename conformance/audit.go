package conformance

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// auditLog reads the seccomp audit records (type=1326) that the kernel
// prints to /dev/kmsg after it was opened. Without auditd, kauditd prints
// them there, rate-limited, so a case that expects one waits a little and
// the runner retries it once after the rate limit's window.
type auditLog struct{ fd int }

// auditRateWindow is printk_ratelimit's interval: a record suppressed in one
// window shows in the next.
const auditRateWindow = 5*time.Second + 500*time.Millisecond

// auditRetries bounds how often a case whose only miss is its audit record
// runs again: a case that is really not logged costs the suite this many
// windows.
const auditRetries = 3

// auditPossible says why audit records cannot be observed here, or "".
func auditPossible() string {
	logged, err := os.ReadFile("/proc/sys/kernel/seccomp/actions_logged")
	if err != nil {
		return "cannot read /proc/sys/kernel/seccomp/actions_logged: " + err.Error()
	}
	for _, need := range []string{"log", "errno"} {
		if !strings.Contains(" "+strings.TrimSpace(string(logged))+" ", " "+need+" ") {
			return fmt.Sprintf("the kernel does not log %q actions (actions_logged: %s)", need, strings.TrimSpace(string(logged)))
		}
	}
	a, err := openAuditLog()
	if err != nil {
		return err.Error()
	}
	a.close()
	return ""
}

func openAuditLog() (*auditLog, error) {
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("reading the kernel log: /dev/kmsg: %w", err)
	}
	if _, err := unix.Seek(fd, 0, unix.SEEK_END); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("reading the kernel log: /dev/kmsg: %w", err)
	}
	return &auditLog{fd}, nil
}

func (a *auditLog) close() { unix.Close(a.fd) }

// find waits up to two seconds (kauditd prints asynchronously) for a
// seccomp record of syscall nr made by a process named comm.
func (a *auditLog) find(comm string, nr int64) bool {
	want := []string{"type=1326", `comm="` + comm + `"`, fmt.Sprintf(" syscall=%d ", nr)}
	deadline := time.Now().Add(2 * time.Second)
	buf := make([]byte, 8192)
	for {
		n, err := unix.Read(a.fd, buf)
		switch {
		case err == nil:
			// One record per read: "prio,seq,time,flags;message\n...".
			rec := string(buf[:n])
			if _, msg, ok := strings.Cut(rec, ";"); ok {
				rec = msg
			}
			rec, _, _ = strings.Cut(rec, "\n")
			if containsAll(rec+" ", want) {
				return true
			}
			continue
		case errors.Is(err, unix.EPIPE):
			continue // records overwritten before we read them
		case !errors.Is(err, unix.EAGAIN):
			return false
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
