package denials

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// The process events connector (linux/cn_proc.h): the kernel announces
// every fork and exec. The collector uses it so that a process that
// denies and exits at once (busybox's mkdir, forked by a shell, lives well
// under a millisecond) is still attributed: its fork is announced before
// it can make the call, with its parent, which is in the same container.
const (
	cnIdxProc          = 1
	cnValProc          = 1
	procCnMcastListen  = 1
	procEventFork      = 0x00000001
	procEventExec      = 0x00000002
	cnMsgLen           = 20 // struct cn_msg without data
	procEventHeaderLen = 16 // what, cpu, timestamp_ns
)

// procEvents subscribes to fork and exec events.
type procEvents struct{ fd int }

func openProcEvents() (*procEvents, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_CONNECTOR)
	if err != nil {
		return nil, fmt.Errorf("process events connector: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc, Pid: 0}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("process events connector: bind needs CAP_NET_ADMIN: %w", err)
	}
	msg := make([]byte, unix.NLMSG_HDRLEN+cnMsgLen+4)
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], unix.NLMSG_DONE)
	cn := msg[unix.NLMSG_HDRLEN:]
	binary.NativeEndian.PutUint32(cn[0:], cnIdxProc)
	binary.NativeEndian.PutUint32(cn[4:], cnValProc)
	binary.NativeEndian.PutUint16(cn[16:], 4)
	binary.NativeEndian.PutUint32(cn[cnMsgLen:], procCnMcastListen)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("process events connector: subscribing: %w", err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20)
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 200000})
	return &procEvents{fd: fd}, nil
}

// run feeds forks and execs to the pid cache until ctx is done.
func (p *procEvents) run(ctx context.Context, procRoot string, cache *pidCache) {
	defer unix.Close(p.fd)
	buf := make([]byte, 64<<10)
	for ctx.Err() == nil {
		before := monotonicNow()
		n, _, err := unix.Recvfrom(p.fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.ENOBUFS) {
				cache.scanNew(procRoot) // events were lost: catch up from /proc
			}
			if errors.Is(err, unix.EAGAIN) {
				// Nothing for a while: every event before the wait is in.
				cache.caughtUp(before)
			}
			continue
		}
		for b := buf[:n]; len(b) >= unix.NLMSG_HDRLEN; {
			l := int(binary.NativeEndian.Uint32(b))
			if l < unix.NLMSG_HDRLEN || l > len(b) {
				break
			}
			p.event(b[unix.NLMSG_HDRLEN:l], procRoot, cache)
			next := (l + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1)
			if next > len(b) {
				break
			}
			b = b[next:]
		}
	}
}

func (p *procEvents) event(cn []byte, procRoot string, cache *pidCache) {
	if len(cn) < cnMsgLen+procEventHeaderLen+8 {
		return
	}
	ev := cn[cnMsgLen:]
	what := binary.NativeEndian.Uint32(ev)
	defer cache.caughtUp(int64(binary.NativeEndian.Uint64(ev[8:])))
	data := ev[procEventHeaderLen:]
	u := func(i int) int { return int(binary.NativeEndian.Uint32(data[4*i:])) }
	switch what {
	case procEventFork:
		if len(data) < 16 {
			return
		}
		parentTgid, childPid, childTgid := u(1), u(2), u(3)
		if childPid != childTgid {
			return // a thread: same process, same container
		}
		cache.forked(procRoot, parentTgid, childTgid)
	case procEventExec:
		tgid := u(1)
		if info, err := readProc(procRoot, tgid); err == nil {
			cache.put(tgid, info)
		} else {
			cache.execed(tgid)
		}
	}
}

// forked records a new process: what /proc says of it, or, when it is
// already gone, its parent's cgroups (a child starts in its parent's
// cgroup, and a process inside a container cannot leave it). Its comm is
// left unknown: a child usually execs at once, and its exec event may
// find it gone. The fork event itself tells this pid's process from any
// earlier one, so the comm check against pid reuse is not needed here.
func (c *pidCache) forked(procRoot string, parent, child int) {
	info, err := readProc(procRoot, child)
	if err != nil {
		var ok bool
		if info, ok = c.get(parent); !ok {
			return
		}
	}
	info.comm = ""
	c.put(child, info)
}

// execed forgets the comm of a process that exec'd and exited before
// /proc could say its new name: its cgroup stands, its name is unknown.
func (c *pidCache) execed(pid int) {
	if info, ok := c.get(pid); ok {
		info.comm = ""
		c.put(pid, info)
	}
}

// monotonicNow is CLOCK_MONOTONIC in nanoseconds, the clock of the
// process events' timestamps.
func monotonicNow() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}
