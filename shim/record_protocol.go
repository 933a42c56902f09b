package shim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// RecordRequest is one message to the helper's record socket (one JSON
// line, one JSON line back). "start" comes from sysgate-runc, for the
// tree rooted at its own pid, before it execs the runtime; "stop" and
// "list" from `sysgate record stop`.
type RecordRequest struct {
	Op        string `json:"op"` // start, stop, list
	ID        string `json:"id,omitempty"`
	Pid       int    `json:"pid,omitempty"`
	Path      string `json:"path,omitempty"`
	Name      string `json:"name,omitempty"`
	Container string `json:"container,omitempty"` // namespace/pod/container
	Image     string `json:"image,omitempty"`
	Runtime   string `json:"runtime,omitempty"` // the real runtime's path
}

// RecordReply is the helper's answer.
type RecordReply struct {
	Error string `json:"error,omitempty"`
	// Written is the profile a stop wrote (the incomplete name when calls
	// were lost); Lost how many.
	Written    string   `json:"written,omitempty"`
	Lost       uint64   `json:"lost,omitempty"`
	Syscalls   int      `json:"syscalls,omitempty"`
	Recordings []string `json:"recordings,omitempty"` // list: "ID path"
}

// recordTimeout bounds a request: a start must not hold a create long.
const recordTimeout = 10 * time.Second

// AskRecorder sends one request to the record socket and returns the reply;
// a reply with Error is returned as an error. It speaks through raw
// socket calls rather than package net, whose dialer would bring its DNS
// resolver into sysgate-runc, the binary every create starts.
func AskRecorder(socket string, req RecordRequest) (RecordReply, error) {
	var reply RecordReply
	fail := func(err error) (RecordReply, error) {
		return reply, fmt.Errorf("record socket %s: %w (is `sysgate helper` running with this policy?)", socket, err)
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fail(err)
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(recordTimeout.Nanoseconds())
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: socket}); err != nil {
		return fail(err)
	}
	msg, err := json.Marshal(req)
	if err != nil {
		return reply, err
	}
	for msg = append(msg, '\n'); len(msg) > 0; {
		n, err := unix.Write(fd, msg)
		if err != nil {
			return fail(err)
		}
		msg = msg[n:]
	}
	var line []byte
	buf := make([]byte, 4096)
	for !bytes.Contains(line, []byte("\n")) {
		n, err := unix.Read(fd, buf)
		if err != nil {
			return fail(fmt.Errorf("no answer: %w", err))
		}
		if n == 0 {
			return fail(errors.New("no answer: the helper closed the connection"))
		}
		if line = append(line, buf[:n]...); len(line) > 1<<20 {
			return fail(errors.New("answer too long"))
		}
	}
	if err := json.Unmarshal(line, &reply); err != nil {
		return fail(err)
	}
	if reply.Error != "" {
		return reply, errors.New(reply.Error)
	}
	return reply, nil
}
