package shim

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"
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
// a reply with Error is returned as an error.
func AskRecorder(socket string, req RecordRequest) (RecordReply, error) {
	var reply RecordReply
	conn, err := net.DialTimeout("unix", socket, recordTimeout)
	if err != nil {
		return reply, fmt.Errorf("record socket %s: %w (is `sysgate helper` running with this policy?)", socket, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(recordTimeout))
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return reply, fmt.Errorf("record socket %s: %w", socket, err)
	}
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	if err != nil {
		return reply, fmt.Errorf("record socket %s: no answer: %w", socket, err)
	}
	if err := json.Unmarshal(line, &reply); err != nil {
		return reply, fmt.Errorf("record socket %s: %w", socket, err)
	}
	if reply.Error != "" {
		return reply, errors.New(reply.Error)
	}
	return reply, nil
}
