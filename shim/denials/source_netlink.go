package denials

import (
	"bytes"
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
	Enabled      uint32
	Pid          uint32
	BacklogLimit uint32
	Lost         uint32
	Backlog      uint32
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
				return AuditStatus{Enabled: u(1), Pid: u(3), BacklogLimit: u(5), Lost: u(6), Backlog: u(7)}, nil
			}
		}
	}
	return AuditStatus{}, errors.New("audit status: no AUDIT_GET reply from the kernel")
}

// netlinkSource reads the audit read-log multicast group, which every
// listener with CAP_AUDIT_READ receives beside auditd.
type netlinkSource struct{ fd int }

func openNetlink(rcvbuf int) (*netlinkSource, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_AUDIT)
	if err != nil {
		return nil, fmt.Errorf("audit netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1 << (auditNlgrpReadlog - 1)}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("audit netlink: joining the read-log group needs CAP_AUDIT_READ: %w", err)
	}
	// A storm of denials should not overflow the socket: each record
	// takes some 2 KiB of buffer, so 128 MiB holds some 60,000.
	if rcvbuf == 0 {
		rcvbuf = 128 << 20
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvbuf); err != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
	}
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 200000})
	return &netlinkSource{fd: fd}, nil
}

func (s *netlinkSource) name() string { return "netlink" }

func (s *netlinkSource) run(ctx context.Context, sink sink) error {
	defer unix.Close(s.fd)
	buf := make([]byte, 1<<20)
	probe := false
	for ctx.Err() == nil {
		n, _, err := unix.Recvfrom(s.fd, buf, 0)
		switch {
		case errors.Is(err, unix.EAGAIN) && probe:
			// Quiet after an overflow: the records lost at its end show
			// as a gap only at the next record, which may never come.
			// Make one (a userspace audit message), so the loss is
			// counted now.
			if err := sendAuditUser("sysgate denial collector: counting records lost to a socket overflow"); err == nil {
				probe = false
			}
			continue
		case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ENOBUFS):
			sink.overrun()
			probe = true
			continue
		case err != nil:
			return fmt.Errorf("audit netlink: %w", err)
		}
		// One record per datagram. The kernel's nlmsg_len of multicast
		// audit records is not always the header plus the payload (a
		// legacy of auditd's reading), so the payload is what follows the
		// header, up to the first NUL.
		if n < unix.NLMSG_HDRLEN {
			sink.garbled(buf[:n], fmt.Errorf("audit netlink message of %d bytes, shorter than its header", n))
			continue
		}
		typ := int(binary.NativeEndian.Uint16(buf[4:]))
		payload := buf[unix.NLMSG_HDRLEN:n]
		if i := bytes.IndexByte(payload, 0); i >= 0 {
			payload = payload[:i]
		}
		sink.record(typ, payload)
	}
	return nil
}

// SetAuditEnabled sets the kernel's audit switch (AUDIT_SET enabled), as
// `auditctl -e` does. sysgate never calls it on a node; tests do, to run
// the collector on the read-log group where no auditd enabled audit.
func SetAuditEnabled(on bool) error {
	v := uint32(0)
	if on {
		v = 1
	}
	return setAudit(1, 1, v) // AUDIT_STATUS_ENABLED, audit_status.enabled
}

// SetAuditBacklogLimit sets how many records the kernel queues before a
// task making one waits (auditctl -b); tests raise it for storms.
func SetAuditBacklogLimit(n uint32) error {
	return setAudit(0x10, 5, n) // AUDIT_STATUS_BACKLOG_LIMIT, audit_status.backlog_limit
}

// setAudit sends AUDIT_SET with one field of struct audit_status.
func setAudit(mask uint32, field int, value uint32) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_AUDIT)
	if err != nil {
		return fmt.Errorf("audit netlink socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("audit netlink bind: %w", err)
	}
	req := make([]byte, unix.NLMSG_HDRLEN+40)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], 1001) // AUDIT_SET
	binary.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	binary.NativeEndian.PutUint32(req[unix.NLMSG_HDRLEN:], mask)
	binary.NativeEndian.PutUint32(req[unix.NLMSG_HDRLEN+4*field:], value)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("audit set: %w", err)
	}
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 2})
	buf := make([]byte, 4096)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return fmt.Errorf("audit set reply: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(buf[:n])
	if err == nil && len(msgs) > 0 && msgs[0].Header.Type == unix.NLMSG_ERROR && len(msgs[0].Data) >= 4 {
		if errno := int32(binary.NativeEndian.Uint32(msgs[0].Data)); errno != 0 {
			return fmt.Errorf("audit set: %w", syscall.Errno(-errno))
		}
	}
	return nil
}

// sendAuditUser logs a userspace audit message (AUDIT_USER), which takes
// the next audit serial.
func sendAuditUser(text string) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_AUDIT)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	payload := append([]byte(text), 0)
	req := make([]byte, unix.NLMSG_HDRLEN+len(payload))
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], 1005) // AUDIT_USER
	binary.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST)
	copy(req[unix.NLMSG_HDRLEN:], payload)
	return unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
}
