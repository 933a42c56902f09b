package node

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ProcRoot is where procfs is mounted; tests point it elsewhere.
var ProcRoot = "/proc"

// Seccomp modes as /proc/PID/status shows them.
const (
	ModeDisabled = 0
	ModeStrict   = 1
	ModeFilter   = 2
)

// Task is one thread as the kernel describes it in /proc/PID/status and
// /proc/PID/stat.
type Task struct {
	// Name is the command name (Name in status). The process itself can
	// change it: it may serve as a hint that can only lower confidence,
	// never to identify anything.
	Name string `json:"name"`
	TID  int    `json:"tid"`
	TGID int    `json:"tgid"` // the process the thread belongs to
	PPID int    `json:"ppid"`
	// SeccompMode is 0 (disabled), 1 (strict) or 2 (filter); -1 when the
	// kernel has no seccomp.
	SeccompMode int `json:"seccompMode"`
	// Filters is Seccomp_filters: how many filters the thread has.
	Filters    int    `json:"filters"`
	NoNewPrivs bool   `json:"noNewPrivs"`
	CapBnd     uint64 `json:"-"`
	TracerPID  int    `json:"-"`
	// NSpid: the thread's pid in each nested PID namespace, outermost
	// first; its last value is the pid the container sees.
	NSpid []int `json:"-"`
	// StartTicks is when the thread started, in clock ticks since boot
	// (/proc/PID/stat field 22): with the pid, it names the process
	// across pid reuse.
	StartTicks uint64 `json:"-"`
}

// ReadTask reads /proc/<tgid>/task/<tid> (or /proc/<tid> when tgid is 0).
func ReadTask(tgid, tid int) (Task, error) {
	dir := fmt.Sprintf("%s/%d", ProcRoot, tid)
	if tgid != 0 && tgid != tid {
		dir = fmt.Sprintf("%s/%d/task/%d", ProcRoot, tgid, tid)
	}
	t := Task{TID: tid, SeccompMode: -1}
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return t, err
	}
	if err := t.parseStatus(status); err != nil {
		return t, fmt.Errorf("%s/status: %w", dir, err)
	}
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return t, err
	}
	if t.StartTicks, err = startTicks(stat); err != nil {
		return t, fmt.Errorf("%s/stat: %w", dir, err)
	}
	return t, nil
}

func (t *Task) parseStatus(data []byte) error {
	for len(data) > 0 {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte("\n"))
		key, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		v := strings.TrimSpace(string(value))
		var err error
		switch string(key) {
		case "Name":
			t.Name = v
		case "Tgid":
			t.TGID, err = strconv.Atoi(v)
		case "PPid":
			t.PPID, err = strconv.Atoi(v)
		case "TracerPid":
			t.TracerPID, err = strconv.Atoi(v)
		case "NSpid":
			for _, f := range strings.Fields(v) {
				n, convErr := strconv.Atoi(f)
				if convErr != nil {
					err = convErr
					break
				}
				t.NSpid = append(t.NSpid, n)
			}
		case "NoNewPrivs":
			t.NoNewPrivs = v == "1"
		case "CapBnd":
			t.CapBnd, err = strconv.ParseUint(v, 16, 64)
		case "Seccomp":
			t.SeccompMode, err = strconv.Atoi(v)
		case "Seccomp_filters":
			t.Filters, err = strconv.Atoi(v)
		}
		if err != nil {
			return fmt.Errorf("%s: %q: %w", key, v, err)
		}
	}
	return nil
}

// startTicks is field 22 of /proc/PID/stat, counted after the command name,
// which may itself hold spaces and parentheses.
func startTicks(stat []byte) (uint64, error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("no command name")
	}
	fields := strings.Fields(string(stat[end+1:]))
	// fields[0] is field 3 (state); field 22 is fields[19].
	if len(fields) < 20 {
		return 0, fmt.Errorf("%d fields after the command name, want at least 20", len(fields))
	}
	return strconv.ParseUint(fields[19], 10, 64)
}

// statusField is one field of /proc/PID/status, "" when unreadable.
func statusField(pid int, key string) string {
	data, err := os.ReadFile(fmt.Sprintf("%s/%d/status", ProcRoot, pid))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// pids lists the numeric entries of dir (/proc or /proc/PID/task).
func pids(dir string) ([]int, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	out := make([]int, 0, len(names))
	for _, name := range names {
		if n, err := strconv.Atoi(name); err == nil {
			out = append(out, n)
		}
	}
	return out, nil
}
