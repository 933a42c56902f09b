package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sysgate/sysgate/filter/observe"
	"github.com/sysgate/sysgate/shim"
	"github.com/sysgate/sysgate/shim/record"
	"github.com/sysgate/sysgate/spec"
)

// recordServer runs the node's recordings in the helper: sysgate-runc asks
// it to start one, rooted at its own process, before it execs the runtime;
// the recording ends when every task of the tree has exited (the
// container was deleted or killed) or on `sysgate record stop ID`, and
// its profile is written then.
type recordServer struct {
	policy spec.Policy
	log    *slog.Logger

	mu       sync.Mutex
	byID     map[string]*nodeRecording
	versions map[string]string // runtime path -> its --version line
	wg       sync.WaitGroup
}

type nodeRecording struct {
	id     string
	rec    *observe.Recorder
	output *record.Output
	meta   record.Metadata
	done   chan struct{}
	once   sync.Once
	result shim.RecordReply
}

// pollEvery is how often a recording checks whether its tree has exited.
const pollEvery = 200 * time.Millisecond

// startRecordServer listens on the policy's record_socket (0600 in a 0700
// directory, root only) when the policy lists record_namespaces.
func startRecordServer(ctx context.Context, policy spec.Policy, log *slog.Logger) (stop func(), err error) {
	if len(policy.RecordNamespaces) == 0 {
		return func() {}, nil
	}
	if err := observe.Available(); err != nil {
		return nil, fmt.Errorf("record_namespaces is set but eBPF recording is unavailable here: %w", err)
	}
	dir := filepath.Dir(policy.RecordSocket)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	os.Remove(policy.RecordSocket)
	l, err := net.Listen("unix", policy.RecordSocket)
	if err != nil {
		return nil, fmt.Errorf("record socket: %w", err)
	}
	os.Chmod(policy.RecordSocket, 0o600)
	s := &recordServer{policy: policy, log: log, byID: map[string]*nodeRecording{}, versions: map[string]string{}}
	log.Info("recording containers", "socket", policy.RecordSocket, "namespaces", policy.RecordNamespaces, "dir", policy.RecordDir)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(conn)
		}
	}()
	return func() {
		l.Close()
		os.Remove(policy.RecordSocket)
		// Recordings still running end with the helper: their profiles
		// are written from what was counted so far.
		s.mu.Lock()
		var all []*nodeRecording
		for _, r := range s.byID {
			all = append(all, r)
		}
		s.mu.Unlock()
		for _, r := range all {
			s.finish(r, "the helper stopped")
		}
		s.wg.Wait()
	}, nil
}

func (s *recordServer) serve(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	reply := func(r shim.RecordReply) { json.NewEncoder(conn).Encode(r) }
	cred, err := peerCred(conn)
	if err != nil || cred.Uid != 0 {
		reply(shim.RecordReply{Error: "the record socket serves root only"})
		return
	}
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	if err != nil {
		return
	}
	var req shim.RecordRequest
	if err := json.Unmarshal(line, &req); err != nil {
		reply(shim.RecordReply{Error: "bad request: " + err.Error()})
		return
	}
	switch req.Op {
	case "start":
		// A client records only itself: the tree a recording follows is
		// the one whose filter it asked for.
		if req.Pid != int(cred.Pid) {
			reply(shim.RecordReply{Error: fmt.Sprintf("pid %d asks to record pid %d; a client records only its own process", cred.Pid, req.Pid)})
			return
		}
		if err := s.start(req); err != nil {
			reply(shim.RecordReply{Error: err.Error()})
			return
		}
		reply(shim.RecordReply{})
	case "stop":
		s.mu.Lock()
		r := s.byID[req.ID]
		s.mu.Unlock()
		if r == nil {
			reply(shim.RecordReply{Error: fmt.Sprintf("no recording of container %q is running (sysgate record stop --list shows them)", req.ID)})
			return
		}
		reply(s.finish(r, "sysgate record stop"))
	case "list":
		s.mu.Lock()
		var out []string
		for id, r := range s.byID {
			out = append(out, id+" "+r.output.Path)
		}
		s.mu.Unlock()
		reply(shim.RecordReply{Recordings: out})
	default:
		reply(shim.RecordReply{Error: fmt.Sprintf("unknown op %q", req.Op)})
	}
}

func (s *recordServer) start(req shim.RecordRequest) error {
	if req.ID == "" || !strings.HasPrefix(req.Path, filepath.Join(s.policy.RecordDir, "recordings")+"/") || filepath.Clean(req.Path) != req.Path {
		return fmt.Errorf("recording %q to %q: not a recording under %s", req.ID, req.Path, s.policy.RecordDir)
	}
	s.mu.Lock()
	if _, ok := s.byID[req.ID]; ok {
		s.mu.Unlock()
		return fmt.Errorf("container %s is already being recorded", req.ID)
	}
	s.mu.Unlock()
	output, err := record.Open(req.Path)
	if err != nil {
		return err
	}
	rec, err := observe.Start(req.Pid)
	if err != nil {
		output.Close()
		return fmt.Errorf("eBPF: %w", err)
	}
	r := &nodeRecording{id: req.ID, rec: rec, output: output, done: make(chan struct{}), meta: record.Metadata{
		Recorder: "sysgate " + version, Runtime: s.runtimeVersion(req.Runtime), Kernel: kernelRelease(), Image: req.Image,
		Container: req.Container, Started: time.Now().UTC(), Source: "ebpf",
	}}
	s.mu.Lock()
	s.byID[req.ID] = r
	s.mu.Unlock()
	s.log.Info("recording", "container", req.ID, "name", req.Name, "to", req.Path)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(pollEvery)
		defer t.Stop()
		for {
			select {
			case <-r.done:
				return
			case <-t.C:
				if n, err := rec.Tasks(); err == nil && n == 0 {
					s.finish(r, "its processes exited")
					return
				}
			}
		}
	}()
	return nil
}

// finish ends a recording once: the counts read, the programs detached,
// the profile written (under the incomplete name if calls were lost).
func (s *recordServer) finish(r *nodeRecording, why string) shim.RecordReply {
	r.once.Do(func() {
		defer close(r.done)
		s.mu.Lock()
		delete(s.byID, r.id)
		s.mu.Unlock()
		defer r.output.Close()
		obs, err := r.rec.Snapshot()
		r.rec.Close()
		if err != nil {
			r.result.Error = fmt.Sprintf("reading the recording of %s: %v; no profile was written", r.id, err)
			s.log.Error("recording failed", "container", r.id, "err", err)
			return
		}
		if obs.Total() == 0 {
			r.result.Error = fmt.Sprintf("container %s made no syscall under its filter (it never started?); no profile was written", r.id)
			s.log.Warn("empty recording", "container", r.id, "why", why)
			return
		}
		r.meta.Stopped, r.meta.Lost = time.Now().UTC(), obs.Lost
		calls := observedCalls(obs)
		if err := record.AddRuntimeInit(calls, r.meta.Runtime, &r.meta); err != nil {
			r.result.Error = err.Error()
			return
		}
		written, meta, err := writeRecording(r.output, calls, r.meta, "json", "")
		if err != nil {
			r.result.Error = err.Error()
			s.log.Error("writing the recording", "container", r.id, "err", err)
			return
		}
		n := 0
		for _, names := range meta.PerABI {
			n += len(names)
		}
		r.result = shim.RecordReply{Written: written, Lost: obs.Lost, Syscalls: n}
		if obs.Lost > 0 {
			s.log.Error("recording LOST calls: written as INCOMPLETE", "container", r.id, "lost", obs.Lost, "to", written)
			return
		}
		s.log.Info("recording written", "container", r.id, "why", why, "syscalls", n, "calls", meta.Records, "to", written)
	})
	return r.result
}

// runtimeVersion is the first line of `RUNTIME --version`, once per path.
func (s *recordServer) runtimeVersion(path string) string {
	s.mu.Lock()
	v, ok := s.versions[path]
	s.mu.Unlock()
	if ok {
		return v
	}
	v = path
	if out, err := exec.Command(path, "--version").Output(); err == nil {
		first, _, _ := strings.Cut(string(out), "\n")
		v = strings.TrimSpace(first)
	}
	s.mu.Lock()
	s.versions[path] = v
	s.mu.Unlock()
	return v
}

func peerCred(conn net.Conn) (*unix.Ucred, error) {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return nil, errors.New("not a unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	var credErr error
	raw.Control(func(fd uintptr) { cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) })
	return cred, credErr
}
