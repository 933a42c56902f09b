package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter"
	"golang.org/x/sys/unix"
)

// AgentErrno is what the agent answers every notification with: an errno
// no filter or kernel path in the suite returns, so seeing it in the probe
// proves the call went through the agent.
const AgentErrno = unix.EXDEV

// agentMetadata is the listenerMetadata of the notify cases; the agent
// checks that it arrives unchanged.
const agentMetadata = "sysgate-conformance;key=value"

// agent is a seccomp agent at listenerPath, as the runtime spec describes
// one: it accepts the runtime's connections, checks each container process
// state, takes the seccompFd from SCM_RIGHTS, and answers notifications
// until the container's process is gone.
type agent struct {
	ln       *net.UnixListener
	id       string // the container id the state must carry
	bundle   string // and the bundle
	done     chan struct{}
	mu       sync.Mutex
	problems []string
	conns    int
	answered int
}

// startAgent listens at path for the container id in bundleDir.
func startAgent(path, id, bundleDir string) (*agent, error) {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("seccomp agent: %w", err)
	}
	a := &agent{ln: ln, id: id, bundle: bundleDir, done: make(chan struct{})}
	go a.serve()
	return a, nil
}

func (a *agent) problemf(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.problems = append(a.problems, fmt.Sprintf(format, args...))
}

func (a *agent) serve() {
	defer close(a.done)
	var wg sync.WaitGroup
	for {
		conn, err := a.ln.AcceptUnix()
		if err != nil {
			break // closed by stop
		}
		a.mu.Lock()
		a.conns++
		a.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.handle(conn)
		}()
	}
	wg.Wait()
}

// handle reads one container process state and serves its seccompFd.
func (a *agent) handle(conn *net.UnixConn) {
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	msg, oob := make([]byte, 1<<20), make([]byte, unix.CmsgSpace(4*8))
	n, oobn, _, _, err := conn.ReadMsgUnix(msg, oob)
	if err != nil {
		a.problemf("reading the container process state: %v", err)
		return
	}
	fds := receivedFds(oob[:oobn])
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	var state specs.ContainerProcessState
	if err := json.Unmarshal(msg[:n], &state); err != nil {
		a.problemf("the container process state is not JSON: %v", err)
		return
	}
	a.checkState(state, len(fds))
	// The state names the fd; a runtime could send more than one.
	for i, name := range state.Fds {
		if name == specs.SeccompFdName && i < len(fds) {
			a.answer(fds[i])
			return
		}
	}
}

func receivedFds(oob []byte) []int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var fds []int
	for i := range msgs {
		if got, err := unix.ParseUnixRights(&msgs[i]); err == nil {
			fds = append(fds, got...)
		}
	}
	return fds
}

// checkState holds the state to the spec: ociVersion, fds naming the
// seccompFd one-to-one with SCM_RIGHTS, the pid, the metadata, and the
// container's state (id, pid, bundle). The status is not checked: runc
// sends "running" where crun sends "creating", and the spec allows both.
func (a *agent) checkState(s specs.ContainerProcessState, nfds int) {
	switch {
	case s.Version == "":
		a.problemf("container process state: no ociVersion")
	case len(s.Fds) != nfds:
		a.problemf("container process state: fds %v names %d fds, SCM_RIGHTS carried %d", s.Fds, len(s.Fds), nfds)
	case s.Pid <= 0:
		a.problemf("container process state pid %d, want the process's pid", s.Pid)
	case s.State.Pid <= 0:
		a.problemf("state.pid %d, want the container's pid", s.State.Pid)
	case s.Metadata != agentMetadata:
		a.problemf("container process state: metadata %q, want listenerMetadata %q", s.Metadata, agentMetadata)
	case s.State.ID != a.id:
		a.problemf("state.id %q, want %q", s.State.ID, a.id)
	case s.State.Bundle != a.bundle:
		a.problemf("state.bundle %q, want %q", s.State.Bundle, a.bundle)
	}
	found := false
	for _, name := range s.Fds {
		found = found || name == specs.SeccompFdName
	}
	if !found {
		a.problemf("container process state: fds %v has no %q", s.Fds, specs.SeccompFdName)
	}
}

// answer replies AgentErrno to every notification on fd until the
// filter's last user is gone (POLLHUP) or 20 seconds pass.
func (a *agent) answer(fd int) {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		k, err := unix.Poll(pfd, 200)
		if errors.Is(err, unix.EINTR) || k == 0 {
			continue
		}
		if err != nil {
			a.problemf("poll on the seccomp fd: %v", err)
			return
		}
		if pfd[0].Revents&unix.POLLIN == 0 {
			return // POLLHUP: no process uses the filter any more
		}
		req, err := filter.ReceiveNotification(fd)
		if err != nil {
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOENT) {
				continue
			}
			a.problemf("SECCOMP_IOCTL_NOTIF_RECV: %v", err)
			return
		}
		resp := filter.NotificationResponse{ID: req.ID, Error: -int32(AgentErrno)}
		// ENOENT: the caller died or was interrupted meanwhile.
		if err := filter.RespondNotification(fd, resp); err != nil && !errors.Is(err, unix.ENOENT) {
			a.problemf("SECCOMP_IOCTL_NOTIF_SEND: %v", err)
			return
		}
		a.mu.Lock()
		a.answered++
		a.mu.Unlock()
	}
}

// stop closes the listener, waits for the connections to finish and
// returns what went wrong, if anything: the runner appends it to the
// observed outcome so that a bad state fails the case.
func (a *agent) stop(path string) []string {
	a.ln.Close()
	select {
	case <-a.done:
	case <-time.After(25 * time.Second):
		a.problemf("the agent did not finish")
	}
	os.Remove(path)
	a.mu.Lock()
	defer a.mu.Unlock()
	problems := append([]string(nil), a.problems...)
	if a.conns == 0 {
		problems = append(problems, "no connection at listenerPath")
	} else if a.answered == 0 && len(problems) == 0 {
		problems = append(problems, "no notification reached the agent")
	}
	return problems
}
