package helperproc

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sysgate/sysgate/shim"
)

// Process is a running `sysgate helper`.
type Process struct {
	Socket string
	// run starts the helper's process; supervised ones run it again.
	run        func() (*exec.Cmd, error)
	supervised bool
	log        lockedBuffer
	done       chan struct{} // closed when the helper has stopped for good

	mu       sync.Mutex
	cmd      *exec.Cmd
	stopping bool
	restarts int
	// exitedToRestart: the last process exited on its own and was due
	// to be started again when Stop came: not a failure.
	exitedToRestart bool
}

// Start runs `sysgate helper --config policy --socket socket` and waits
// until the socket exists.
func Start(sysgate, policy, socket string) (*Process, error) {
	return start(sysgate, policy, socket, false)
}

// StartSupervised is Start under the deploy/systemd unit's restart rule
// (Restart=always, RestartSec=1): a helper that exits on its own, as it
// does when an edit of its policy changes the services it runs, is started
// again, as on a node. For the tiers that share one helper across tests
// that edit the policy.
func StartSupervised(sysgate, policy, socket string) (*Process, error) {
	return start(sysgate, policy, socket, true)
}

func start(sysgate, policy, socket string, supervised bool) (*Process, error) {
	p := &Process{Socket: socket, done: make(chan struct{}), supervised: supervised}
	p.run = func() (*exec.Cmd, error) {
		cmd := exec.Command(sysgate, "helper", "--config", policy, "--socket", socket)
		cmd.Stdout, cmd.Stderr = &p.log, &p.log
		return cmd, cmd.Start()
	}
	cmd, err := p.run()
	if err != nil {
		return nil, err
	}
	p.cmd = cmd
	go p.wait(cmd)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(socket); err == nil {
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("sysgate helper exited at start: %s", p.Log())
		default:
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("sysgate helper made no socket in 10 s: %s", p.Log())
		}
	}
}

// wait reaps cmd and, when supervised and not stopping, starts it again a
// second later, as systemd would.
func (p *Process) wait(cmd *exec.Cmd) {
	for {
		cmd.Wait()
		p.mu.Lock()
		again := p.supervised && !p.stopping
		p.exitedToRestart = again
		p.mu.Unlock()
		if !again {
			close(p.done)
			return
		}
		time.Sleep(time.Second)
		p.mu.Lock()
		if p.stopping {
			p.mu.Unlock()
			close(p.done)
			return
		}
		next, err := p.run()
		if err != nil {
			p.mu.Unlock()
			fmt.Fprintf(&p.log, "helperproc: restarting: %v\n", err)
			close(p.done)
			return
		}
		p.cmd, cmd = next, next
		p.restarts++
		p.exitedToRestart = false
		p.mu.Unlock()
	}
}

// current is the helper's process now.
func (p *Process) current() *exec.Cmd {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd
}

// Restarts says how often a supervised helper was started again.
func (p *Process) Restarts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.restarts
}

// Stop ends the helper with SIGTERM, as systemd does, and waits for it.
func (p *Process) Stop() error {
	p.mu.Lock()
	p.stopping = true
	cmd := p.cmd
	p.mu.Unlock()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.current().Process.Kill()
		<-p.done
		return fmt.Errorf("sysgate helper ignored SIGTERM for 10 s")
	}
	p.mu.Lock()
	restarting := p.exitedToRestart
	p.mu.Unlock()
	if st := p.current().ProcessState; st != nil && !st.Success() && !restarting {
		return fmt.Errorf("sysgate helper: %v: %s", st, p.Log())
	}
	return nil
}

// Kill ends the helper with SIGKILL, as a crash or the OOM killer would,
// and waits for it; its socket stays behind, stale.
func (p *Process) Kill() {
	p.mu.Lock()
	p.stopping = true
	cmd := p.cmd
	p.mu.Unlock()
	cmd.Process.Kill()
	<-p.done
}

// Done is closed when the helper has stopped for good.
func (p *Process) Done() <-chan struct{} { return p.done }

// Pid is the helper's process id now.
func (p *Process) Pid() int { return p.current().Process.Pid }

// Log is what the helper has written so far.
func (p *Process) Log() string { return p.log.String() }

// Memory is the helper's resident set now and at its peak, from
// /proc/<pid>/status.
func (p *Process) Memory() string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return "unknown"
	}
	field := func(name string) string {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, name+":"); ok {
				return strings.TrimSpace(v)
			}
		}
		return "?"
	}
	return fmt.Sprintf("RSS %s (peak %s; anonymous %s, file-backed %s)", field("VmRSS"), field("VmHWM"), field("RssAnon"), field("RssFile"))
}

// Create asks the helper to prepare bundle for a `create` of container id
// under policy, as sysgate-runc's fast path does (shim/helper_protocol.go:
// the request with the working directory and root as descriptors), and
// returns the reply's two fields: "ok" and the runtime, or "fallback" and
// why. Nothing is executed.
func (p *Process) Create(policy, bundle, id string) (kind, detail string, err error) {
	conn, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: p.Socket, Net: "unixpacket"})
	if err != nil {
		return "", "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	var fds []int
	for _, dir := range []string{".", "/"} {
		f, err := os.OpenFile(dir, unix.O_PATH|unix.O_DIRECTORY, 0)
		if err != nil {
			return "", "", err
		}
		defer f.Close()
		fds = append(fds, int(f.Fd()))
	}
	fields := []string{shim.HelperProtocol, policy, "create", "--bundle", bundle, id}
	if _, _, err := conn.WriteMsgUnix([]byte(strings.Join(fields, "\x00")+"\x00"), unix.UnixRights(fds...), nil); err != nil {
		return "", "", err
	}
	reply := make([]byte, 4096)
	n, err := conn.Read(reply)
	if err != nil {
		return "", "", err
	}
	kind, detail, _ = strings.Cut(strings.TrimSuffix(string(reply[:n]), "\x00"), "\x00")
	return kind, detail, nil
}

// lockedBuffer collects the helper's output while tests read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Reload makes a supervised helper read its policy now, as the next create
// would, and returns once it serves again: when the edit changed the
// services it runs, the helper hands that create back and exits, and this
// waits for the restart and the new socket.
func (p *Process) Reload(policy string) error {
	// A helper between two processes (an earlier edit's restart) has no
	// socket for up to RestartSec.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(p.Socket); err == nil || time.Now().After(deadline) {
			break
		}
	}
	before := p.Restarts()
	kind, detail, err := p.Create(policy, "/nonexistent-bundle-for-reload", "reload")
	if err != nil {
		return fmt.Errorf("asking the helper to reload: %w", err)
	}
	if kind != "fallback" || !strings.Contains(detail, "restarts") {
		return nil // same services: it serves on
	}
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if p.Restarts() > before {
			if _, err := os.Stat(p.Socket); err == nil {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("the helper stopped instead of restarting: %s", p.Log())
		default:
		}
	}
	return fmt.Errorf("the helper did not restart in 15 s after %q: %s", detail, p.Log())
}
