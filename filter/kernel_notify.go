package filter

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sysgate/sysgate/filter/bpf"
)

// Notification is struct seccomp_notif: a syscall stopped by
// SCMP_ACT_NOTIFY, waiting for the agent's answer. (x/sys/unix has the
// ioctl numbers but not the types.)
type Notification struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Data  bpf.SeccompData
}

// NotificationResponse is struct seccomp_notif_resp: Error (a negative
// errno) fails the call, Val is its result otherwise, and Flags may be
// SECCOMP_USER_NOTIF_FLAG_CONTINUE to let it run.
type NotificationResponse struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// ReceiveNotification blocks until a notification arrives on the listener
// fd (SECCOMP_IOCTL_NOTIF_RECV).
func ReceiveNotification(fd int) (Notification, error) {
	var n Notification
	err := notifyIoctl(fd, unix.SECCOMP_IOCTL_NOTIF_RECV, unsafe.Pointer(&n))
	return n, err
}

// RespondNotification answers a notification (SECCOMP_IOCTL_NOTIF_SEND).
// ENOENT means the caller died or was interrupted meanwhile.
func RespondNotification(fd int, resp NotificationResponse) error {
	return notifyIoctl(fd, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(&resp))
}

// notifyIoctl retries EINTR: Go's preemption signals interrupt the wait,
// which is not an answer.
func notifyIoctl(fd int, req uint, arg unsafe.Pointer) error {
	for {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg))
		switch errno {
		case 0:
			return nil
		case unix.EINTR:
			continue
		}
		return errno
	}
}
