package denials

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// Audit netlink message types and the read-log multicast group
// (linux/audit.h). No well-kept Go audit library is available to this
// build (github.com/elastic/go-libaudit is not in the module mirror), and
// the part needed is small: one bind, recv, and AUDIT_GET.
const (
	auditGet          = 1000
	auditNlgrpReadlog = 1
)

// AuditStatus is the kernel's struct audit_status, the part sysgate reads.
type AuditStatus struct {
	Enabled uint32
	Pid     uint32
	Lost    uint32
	Backlog uint32
}

// GetAuditStatus asks the kernel for its audit status (AUDIT_GET): whether
// audit is enabled (records reach the read-log group only then), and the
// lost counter.
func GetAuditStatus() (AuditStatus, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_AUDIT)
	if err != nil {
		return AuditStatus{}, fmt.Errorf("audit netlink socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return AuditStatus{}, fmt.Errorf("audit netlink bind: %w", err)
	}
	req := make([]byte, unix.NLMSG_HDRLEN)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], auditGet)
	binary.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST)
	binary.NativeEndian.PutUint32(req[8:], 1)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return AuditStatus{}, fmt.Errorf("audit status request: %w", err)
	}
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 2})
	buf := make([]byte, 4096)
	for range 4 {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return AuditStatus{}, fmt.Errorf("audit status reply: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return AuditStatus{}, fmt.Errorf("audit status reply: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Type == unix.NLMSG_ERROR {
				if len(m.Data) >= 4 {
					if errno := int32(binary.NativeEndian.Uint32(m.Data)); errno != 0 {
						return AuditStatus{}, fmt.Errorf("audit status: %w", syscall.Errno(-errno))
					}
				}
				continue
			}
			if m.Header.Type == auditGet && len(m.Data) >= 32 {
				u := func(i int) uint32 { return binary.NativeEndian.Uint32(m.Data[4*i:]) }
				return AuditStatus{Enabled: u(1), Pid: u(3), Lost: u(6), Backlog: u(7)}, nil
			}
		}
	}
	return AuditStatus{}, errors.New("audit status: no AUDIT_GET reply from the kernel")
}

// netlinkSource reads the audit read-log multicast group, which every
// listener with CAP_AUDIT_READ receives beside auditd.
type netlinkSource struct{ fd int }

func openNetlink() (*netlinkSource, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_AUDIT)
	if err != nil {
		return nil, fmt.Errorf("audit netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1 << (auditNlgrpReadlog - 1)}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("audit netlink: joining the read-log group needs CAP_AUDIT_READ: %w", err)
	}
	// A storm of denials must not overflow the socket: 32 MiB holds some
	// 100,000 records.
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 32<<20); err != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 32<<20)
	}
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 200000})
	return &netlinkSource{fd: fd}, nil
}

func (s *netlinkSource) name() string { return "netlink" }

func (s *netlinkSource) run(ctx context.Context, sink sink) error {
	defer unix.Close(s.fd)
	buf := make([]byte, 1<<20)
	for ctx.Err() == nil {
		n, _, err := unix.Recvfrom(s.fd, buf, 0)
		switch {
		case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ENOBUFS):
			sink.overrun()
			continue
		case err != nil:
			return fmt.Errorf("audit netlink: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			sink.garbled(buf[:n], fmt.Errorf("audit netlink message: %w", err))
			continue
		}
		for _, m := range msgs {
			sink.record(int(m.Header.Type), m.Data)
		}
	}
	return nil
}
