package observe

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
)

// Recorder is one recording: its maps and attached programs.
type Recorder struct {
	maps      *maps
	links     []link.Link
	progs     []*ebpf.Program
	root      int
	baseDepth int
}

// Observation is what a recording counted.
type Observation struct {
	// Calls[abi][nr] is how many times the tree made syscall nr through
	// that ABI under its filter; nr NrBound stands for every number at or
	// above it.
	Calls [numABIs]map[int32]uint64
	// Lost counts what could not be counted: a task the full table could
	// not hold, a kernel read that failed. Non-zero means the set may be
	// incomplete.
	Lost uint64
}

// Total is the number of calls counted.
func (o *Observation) Total() uint64 {
	var n uint64
	for _, m := range o.Calls {
		for _, c := range m {
			n += c
		}
	}
	return n
}

// Start begins recording the tree rooted at pid: every thread of pid now,
// every task it or they create from now on. The root's threads are listed
// before and again after the programs attach, so a thread it starts
// meanwhile is followed; a child process it forks before Start returns is
// not, so the caller holds it until then (blocked on a pipe or a reply);
// its threads' filters at Start are the base, and only calls made under a
// filter stacked after that are counted.
func Start(pid int) (*Recorder, error) {
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("%w: raising RLIMIT_MEMLOCK: %w", ErrUnavailable, err)
	}
	o, err := loadOffsets()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	depth, err := filterDepth(pid)
	if err != nil {
		return nil, err
	}
	m, err := newMaps()
	if err != nil {
		return nil, fmt.Errorf("%w: creating maps (needs CAP_BPF and CAP_PERFMON, or root): %w", ErrUnavailable, err)
	}
	r := &Recorder{maps: m, root: pid, baseDepth: depth}
	tids, err := threadsOf(pid)
	if err != nil {
		r.Close()
		return nil, err
	}
	for _, tid := range tids {
		if err := m.tasks.Update(uint32(tid), uint32(taskFollowed), ebpf.UpdateNoExist); err != nil {
			r.Close()
			return nil, fmt.Errorf("eBPF: adding task %d: %w", tid, err)
		}
	}
	// The tree's bookkeeping first, then the counting, so no task is
	// counted before its children can be followed.
	for _, p := range []struct {
		tracepoint string
		insns      asm.Instructions
	}{
		{"sched_process_fork", processFork(m, o.pid)},
		{"sched_process_exec", processExec(m)},
		{"sched_process_exit", processExit(m)},
		{"sys_enter", sysEnter(m, o, depth)},
	} {
		prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
			Name:         "sg_rec_" + strings.TrimPrefix(strings.TrimPrefix(p.tracepoint, "sched_process_"), "sys_"),
			Type:         ebpf.RawTracepoint,
			Instructions: p.insns,
			License:      "GPL",
		})
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("eBPF: loading the %s program: %w", p.tracepoint, err)
		}
		r.progs = append(r.progs, prog)
		l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: p.tracepoint, Program: prog})
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("%w: attaching to the %s tracepoint: %w", ErrUnavailable, p.tracepoint, err)
		}
		r.links = append(r.links, l)
	}
	// Threads the root started between the first listing and the fork
	// program's attach would otherwise be missed; from now on the fork
	// program adds every new one.
	if tids, err = threadsOf(pid); err != nil {
		r.Close()
		return nil, err
	}
	for _, tid := range tids {
		// Already there: listed before, or added by the fork program
		// (whose state is then the right one).
		if err := m.tasks.Update(uint32(tid), uint32(taskFollowed), ebpf.UpdateNoExist); err != nil && !errors.Is(err, ebpf.ErrKeyExist) {
			r.Close()
			return nil, fmt.Errorf("eBPF: adding task %d: %w", tid, err)
		}
	}
	return r, nil
}

// ErrUnavailable marks what this kernel or process lacks (BTF, the bpf
// syscall, privileges, the tracepoints), as opposed to a fault of the
// recorder itself.
var ErrUnavailable = errors.New("eBPF recording is unavailable")

// Available says whether this kernel and process can record with eBPF,
// and if not, why (an error wrapping ErrUnavailable, or another fault).
func Available() error {
	if _, err := loadOffsets(); err != nil {
		return err
	}
	r, err := Start(os.Getpid())
	if err != nil {
		return err
	}
	return r.Close()
}

// BaseDepth is how many filters the root held at Start.
func (r *Recorder) BaseDepth() int { return r.baseDepth }

// Snapshot reads the counts so far.
func (r *Recorder) Snapshot() (*Observation, error) {
	obs := &Observation{}
	for i := range obs.Calls {
		obs.Calls[i] = map[int32]uint64{}
	}
	var perCPU []uint64
	for slot := range countSlots {
		if err := r.maps.counts.Lookup(uint32(slot), &perCPU); err != nil {
			return nil, fmt.Errorf("eBPF: reading count %d: %w", slot, err)
		}
		var n uint64
		for _, c := range perCPU {
			n += c
		}
		if n > 0 {
			obs.Calls[slot/SlotsPerABI][int32(slot%SlotsPerABI)] = n
		}
	}
	if err := r.maps.lost.Lookup(uint32(0), &obs.Lost); err != nil {
		return nil, fmt.Errorf("eBPF: reading the loss counter: %w", err)
	}
	return obs, nil
}

// Tasks is how many tasks of the tree are alive; 0 once all have exited.
func (r *Recorder) Tasks() (int, error) {
	var key, value uint32
	n := 0
	it := r.maps.tasks.Iterate()
	for it.Next(&key, &value) {
		n++
	}
	return n, it.Err()
}

// Close detaches the programs and frees the maps.
func (r *Recorder) Close() error {
	var errs []error
	for _, l := range r.links {
		errs = append(errs, l.Close())
	}
	for _, p := range r.progs {
		errs = append(errs, p.Close())
	}
	r.links, r.progs = nil, nil
	if r.maps != nil {
		r.maps.Close()
		r.maps = nil
	}
	return errors.Join(errs...)
}

// filterDepth is the most filters any thread of pid holds (Seccomp_filters
// in /proc/PID/status, Linux ≥ 5.9).
func filterDepth(pid int) (int, error) {
	tids, err := threadsOf(pid)
	if err != nil {
		return 0, err
	}
	depth := 0
	for _, tid := range tids {
		f, err := os.Open(fmt.Sprintf("/proc/%d/task/%d/status", pid, tid))
		if err != nil {
			continue // exited meanwhile
		}
		found := false
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "Seccomp_filters:"); ok {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil {
					f.Close()
					return 0, fmt.Errorf("/proc/%d/status: Seccomp_filters %q: %w", tid, v, err)
				}
				depth, found = max(depth, n), true
			}
		}
		f.Close()
		if !found {
			return 0, fmt.Errorf("/proc/%d/status has no Seccomp_filters line (Linux < 5.9): the filters a recording starts from cannot be counted", tid)
		}
	}
	return depth, nil
}

func threadsOf(pid int) ([]int, error) {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil, fmt.Errorf("recording process %d: %w", pid, err)
	}
	var tids []int
	for _, e := range entries {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}
