package probe

import (
	"fmt"
	"syscall"
)

// ParseExitStatus is Parse for a probe that ran where only an exit status
// comes back, as a shell or an OCI runtime reports it: 128+N for a process
// that signal N ended (runc and crun return that from `run` and `exec`).
// A status of 129 to 192 with no report on stdout is therefore a kill; with
// a report it is an error like any non-zero exit after a report.
func ParseExitStatus(stdout []byte, status int) (Result, error) {
	if status < 0 || status > 255 {
		return Result{}, fmt.Errorf("probe: exit status %d out of range", status)
	}
	r := Result{ExitCode: status}
	if status > 128 && status <= 128+64 && lastLine(stdout) == nil {
		r.KilledBy, r.ExitCode = signalName(syscall.Signal(status-128)), -1
	}
	return parseReport(stdout, r)
}
