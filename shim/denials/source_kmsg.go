package denials

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// kmsgSource reads the kernel log, where the kernel prints audit records
// when audit is off or no auditd takes them. It starts at the end: records
// from before the collector started are history, not news.
type kmsgSource struct {
	fd   int
	path string
}

func openKmsg(path string) (*kmsgSource, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("kernel log %s: %w", path, err)
	}
	if _, err := unix.Seek(fd, 0, unix.SEEK_END); err != nil && path == "/dev/kmsg" {
		unix.Close(fd)
		return nil, fmt.Errorf("kernel log %s: %w", path, err)
	}
	return &kmsgSource{fd: fd, path: path}, nil
}

func (s *kmsgSource) name() string { return "kmsg" }

func (s *kmsgSource) run(ctx context.Context, sink sink) error {
	defer unix.Close(s.fd)
	buf := make([]byte, 16<<10)
	for ctx.Err() == nil {
		n, err := unix.Read(s.fd, buf)
		switch {
		case errors.Is(err, unix.EAGAIN):
			fds := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLIN}}
			_, _ = unix.Poll(fds, 200)
			continue
		case errors.Is(err, unix.EPIPE):
			// The ring buffer overwrote records before they were read.
			sink.overrun()
			continue
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return fmt.Errorf("kernel log %s: %w", s.path, err)
		case n == 0:
			fds := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLIN}}
			_, _ = unix.Poll(fds, 200)
			continue
		}
		typ, text, ok := kmsgAudit(buf[:n])
		if ok {
			sink.record(typ, text)
		} else if n, ok := kmsgSuppressed(buf[:n]); ok {
			sink.suppressed(n)
		}
	}
	return nil
}

// kmsgAudit picks an audit record out of one /dev/kmsg record:
// "PRI,SEQ,TS,FLAGS;audit: type=NNNN audit(...): ..." (continuation lines
// after the first newline are dictionary keys). It returns the type and
// the text from "audit(" on.
func kmsgAudit(rec []byte) (int, []byte, bool) {
	_, msg, ok := bytes.Cut(rec, []byte(";"))
	if !ok {
		return 0, nil, false
	}
	msg, _, _ = bytes.Cut(msg, []byte("\n"))
	rest, ok := bytes.CutPrefix(msg, []byte("audit: type="))
	if !ok {
		return 0, nil, false
	}
	num, text, ok := bytes.Cut(rest, []byte(" "))
	if !ok {
		return 0, nil, false
	}
	typ, err := strconv.Atoi(string(num))
	if err != nil {
		return 0, nil, false
	}
	return typ, text, true
}

// kmsgSuppressed reads the printk rate limit's report of the audit
// records it kept from the kernel log: "kauditd_printk_skb: N callbacks
// suppressed". The limit is shared by the whole kernel, so N may include
// others' messages: it over-counts, never under-counts.
func kmsgSuppressed(rec []byte) (uint64, bool) {
	_, msg, ok := bytes.Cut(rec, []byte(";"))
	if !ok {
		return 0, false
	}
	msg, _, _ = bytes.Cut(msg, []byte("\n"))
	rest, ok := bytes.CutPrefix(msg, []byte("kauditd_printk_skb: "))
	if !ok {
		return 0, false
	}
	num, ok := bytes.CutSuffix(rest, []byte(" callbacks suppressed"))
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(string(num), 10, 64)
	return n, err == nil
}
