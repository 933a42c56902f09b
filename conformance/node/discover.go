package node

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Container is a group of processes the kernel keeps together as one
// container.
type Container struct {
	// Layout is what the cgroup path says; for a container found by its
	// PID namespace, only Cgroup (its init's) is set, and ID is filled in
	// by a runtime's state (JoinRuntimeStates) or by the caller.
	Layout
	// Key names the group within one scan: "cgroup:<path>" or
	// "pidns:<inode>".
	Key string `json:"key"`
	// PIDNS is the init process's PID namespace inode.
	PIDNS uint64 `json:"pidns"`
	// Init is the container's oldest process: the one the runtime started.
	// Nothing in the container can make a process older than it.
	Init Task `json:"init"`
	// Processes are the container's processes (thread-group leaders),
	// init first.
	Processes []Task `json:"-"`
	// Runtime and Bundle come from a runtime's state directory, when one
	// names this container's init (JoinRuntimeStates).
	Runtime string `json:"runtime,omitempty"`
	Bundle  string `json:"bundle,omitempty"`
}

// Scan is every container found in one pass over /proc.
type Scan struct {
	Containers []*Container
	// Warnings say what the scan could not see.
	Warnings []string
}

// Discover groups every process on the node into containers: by the
// container its cgroup path names (ParseLayout) or, for a process in a PID
// namespace other than the host's whose cgroup names none (crun without
// cgroup management, a runtime given an unusual cgroupsPath), by that PID
// namespace. Processes of the host's PID namespace in no container cgroup
// are the host's own and are left out. Containers come back ordered by
// their init's start, oldest first.
func Discover() (*Scan, error) {
	scan := &Scan{}
	hostNS, err := pidNamespace("self")
	if err != nil {
		return nil, fmt.Errorf("reading this process's PID namespace (%s/self/ns/pid): %w; sysgate needs procfs", ProcRoot, err)
	}
	if self, err := ReadTask(0, os.Getpid()); err == nil && len(self.NSpid) > 1 {
		scan.Warnings = append(scan.Warnings, "sysgate runs in a PID namespace other than the host's and sees only the processes of that namespace; run it on the host (hostPID in a Pod)")
	}
	all, err := pids(ProcRoot)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", ProcRoot, err)
	}
	byKey := map[string]*Container{}
	for _, pid := range all {
		p, layout, key, ns, ok := readProcess(pid, hostNS)
		if !ok {
			continue
		}
		c := byKey[key]
		if c == nil {
			c = &Container{Layout: layout, Key: key, PIDNS: ns}
			byKey[key] = c
			scan.Containers = append(scan.Containers, c)
		}
		c.Processes = append(c.Processes, p)
	}
	for _, c := range scan.Containers {
		slices.SortFunc(c.Processes, func(a, b Task) int {
			if a.StartTicks != b.StartTicks {
				return compareUint(a.StartTicks, b.StartTicks)
			}
			return a.TID - b.TID
		})
		c.Init = c.Processes[0]
		if ns, err := pidNamespace(strconv.Itoa(c.Init.TID)); err == nil {
			c.PIDNS = ns
		}
	}
	slices.SortFunc(scan.Containers, func(a, b *Container) int {
		if a.Init.StartTicks != b.Init.StartTicks {
			return compareUint(a.Init.StartTicks, b.Init.StartTicks)
		}
		return a.Init.TID - b.Init.TID
	})
	return scan, nil
}

// readProcess reads one process and says which container it belongs to;
// ok is false for the host's own processes, kernel threads and processes
// that exited meanwhile.
func readProcess(pid int, hostNS uint64) (p Task, layout Layout, key string, ns uint64, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("%s/%d/cgroup", ProcRoot, pid))
	if err != nil {
		return p, layout, "", 0, false
	}
	lines := parseCgroups(string(data))
	layout, inContainer := containerOf(lines)
	ns, err = pidNamespace(strconv.Itoa(pid))
	if err != nil {
		return p, layout, "", 0, false
	}
	switch {
	case inContainer:
		key = "cgroup:" + layout.Cgroup
	case ns != hostNS:
		layout = Layout{Cgroup: mainCgroup(lines)}
		key = fmt.Sprintf("pidns:%d", ns)
	default:
		return p, layout, "", 0, false
	}
	p, err = ReadTask(0, pid)
	if err != nil || p.PPID == 0 && pid != 1 {
		return p, layout, "", 0, false
	}
	return p, layout, key, ns, true
}

// pidNamespace is the inode of /proc/<pid>/ns/pid.
func pidNamespace(pid string) (uint64, error) {
	link, err := os.Readlink(fmt.Sprintf("%s/%s/ns/pid", ProcRoot, pid))
	if err != nil {
		return 0, err
	}
	// "pid:[4026531836]"
	inode, ok := strings.CutPrefix(link, "pid:[")
	if !ok || !strings.HasSuffix(inode, "]") {
		return 0, fmt.Errorf("unexpected namespace link %q", link)
	}
	return strconv.ParseUint(strings.TrimSuffix(inode, "]"), 10, 64)
}

// Threads lists every thread of the container's processes, as the kernel
// describes them now; threads that exited meanwhile are left out.
func (c *Container) Threads() []Task {
	var out []Task
	for _, p := range c.Processes {
		tids, err := pids(fmt.Sprintf("%s/%d/task", ProcRoot, p.TID))
		if err != nil {
			continue
		}
		slices.Sort(tids)
		for _, tid := range tids {
			if t, err := ReadTask(p.TID, tid); err == nil {
				out = append(out, t)
			}
		}
	}
	return out
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
