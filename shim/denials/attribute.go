package denials

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// procInfo is what /proc said about a process: its cgroup paths and comm.
type procInfo struct {
	cgroups []string
	comm    string
	// root is the device and inode of the process's root directory: a
	// container's is its bundle's rootfs, which attributes processes of
	// containers that have no cgroup of their own (crun with
	// --cgroup-manager=disabled).
	root fileKey
	// readAt is when /proc was read (CLOCK_MONOTONIC), for lookups that
	// may take a fresh reading instead of reading again.
	readAt int64
}

type fileKey struct{ dev, ino uint64 }

// readProc reads a process's cgroups and comm from procRoot (normally
// /proc).
func readProc(procRoot string, pid int) (procInfo, error) {
	dir := filepath.Join(procRoot, strconv.Itoa(pid))
	cg, err := os.ReadFile(filepath.Join(dir, "cgroup"))
	if err != nil {
		return procInfo{}, err
	}
	comm, err := os.ReadFile(filepath.Join(dir, "comm"))
	if err != nil {
		return procInfo{}, err
	}
	var info procInfo
	sc := bufio.NewScanner(bytes.NewReader(cg))
	for sc.Scan() {
		// hierarchy-ID:controllers:path; v1 has one line per hierarchy,
		// v2 one "0::path".
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) == 3 && parts[2] != "" {
			info.cgroups = append(info.cgroups, parts[2])
		}
	}
	info.comm = strings.TrimSuffix(string(comm), "\n")
	var st syscall.Stat_t
	if syscall.Stat(filepath.Join(dir, "root"), &st) == nil {
		info.root = fileKey{st.Dev, st.Ino}
	}
	info.readAt = monotonicNow()
	return info, nil
}

// containerIDs lists the candidate container ids in a cgroup path, the
// innermost first: runc's default cgroup is /<id>, containerd's CRI puts
// a container under /kubepods/.../<id> (cgroupfs) or
// cri-containerd-<id>.scope (systemd), CRI-O under crio-<id>.scope,
// podman libpod-<id>.scope, Docker docker-<id>.scope.
func containerIDs(path string) []string {
	var out []string
	elems := strings.Split(strings.Trim(path, "/"), "/")
	for i := len(elems) - 1; i >= 0; i-- {
		e := strings.TrimSuffix(elems[i], ".scope")
		for _, prefix := range []string{"cri-containerd-", "crio-", "libpod-", "docker-"} {
			e = strings.TrimPrefix(e, prefix)
		}
		if e != "" {
			out = append(out, e)
		}
	}
	return out
}

// freshFor is how long a reading of /proc stands for the same process
// (same pid and comm), in nanoseconds.
const freshFor = int64(250 * time.Millisecond)

// pidCache remembers what /proc said about processes seen alive, so that a
// record whose process exited before it was read can still be attributed.
// Bounded: the oldest half is dropped when it is full.
type pidCache struct {
	// cursor: every process event up to this CLOCK_MONOTONIC time has
	// been applied (0: no events are read).
	cursor atomic.Int64

	mu      sync.Mutex
	byPid   map[int]procInfo
	order   []int
	maxSize int
}

func newPidCache(maxSize int) *pidCache {
	return &pidCache{byPid: map[int]procInfo{}, maxSize: maxSize}
}

func (c *pidCache) put(pid int, info procInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.byPid[pid]
	if !ok {
		c.order = append(c.order, pid)
	}
	// A zombie (exited, not yet reaped) still shows its comm and cgroups
	// but no root: keep what was seen while it lived.
	if info.root == (fileKey{}) {
		info.root = old.root
	}
	c.byPid[pid] = info
	if len(c.order) > c.maxSize {
		drop := c.order[:len(c.order)/2]
		for _, p := range drop {
			delete(c.byPid, p)
		}
		c.order = append([]int(nil), c.order[len(drop):]...)
	}
}

func (c *pidCache) caughtUp(mono int64) {
	for {
		cur := c.cursor.Load()
		if mono <= cur || c.cursor.CompareAndSwap(cur, mono) {
			return
		}
	}
}

// waitFor waits until the process events up to mono are applied, at most
// max: a record of a process already gone is looked up in the cache only
// once its fork can be there.
func (c *pidCache) waitFor(mono int64, max time.Duration) {
	for deadline := time.Now().Add(max); c.cursor.Load() != 0 && c.cursor.Load() < mono && time.Now().Before(deadline); {
		time.Sleep(2 * time.Millisecond)
	}
}

func (c *pidCache) get(pid int) (procInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	info, ok := c.byPid[pid]
	return info, ok
}

// scanNew reads /proc for pids not cached yet; the collector calls it
// periodically, so a process that denies and exits before its record is
// read is attributed from what it was a moment ago.
func (c *pidCache) scanNew(procRoot string) {
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, ok := c.get(pid); ok {
			continue
		}
		if info, err := readProc(procRoot, pid); err == nil {
			c.put(pid, info)
		}
	}
}

// lookupProc finds a record's process: /proc now, else the cache. The
// comm must match the record's: a pid reused by another process since the
// record (or since the cache saw it) would otherwise be attributed to the
// wrong container, which is worse than not attributing it.
func lookupProc(procRoot string, cache *pidCache, pid int, comm string) (info procInfo, why string, gone bool) {
	// A storm of records from one process reads /proc once a while, not
	// once a record: the reader must keep up with the kernel.
	if cached, ok := cache.get(pid); ok && cached.readAt > monotonicNow()-freshFor && commMatches(cached.comm, comm) && cached.comm != "" {
		return cached, "", false
	}
	info, err := readProc(procRoot, pid)
	if err == nil {
		if commMatches(info.comm, comm) {
			cache.put(pid, info)
			info, _ = cache.get(pid)
			return info, "", false
		}
		// Another process has the pid now: what the cache knows is of
		// the process that made the call, or of this one.
		return procInfo{}, fmt.Sprintf("process %d is now %q, not the %q that made the call (pid reused)", pid, info.comm, comm), false
	}
	if cached, ok := cache.get(pid); ok && commMatches(cached.comm, comm) {
		return cached, "", false
	}
	return procInfo{}, fmt.Sprintf("process %d exited before it could be attributed and was not seen alive before", pid), true
}

// commMatches compares comm values; the kernel truncates comm to 15 bytes.
func commMatches(proc, record string) bool {
	if record == "" || proc == "" { // unknown: the process exec'd and left
		return true
	}
	if len(record) > 15 {
		record = record[:15]
	}
	return proc == record
}
