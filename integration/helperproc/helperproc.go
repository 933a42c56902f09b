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
	cmd    *exec.Cmd
	log    lockedBuffer
	done   chan struct{}
}

// Start runs `sysgate helper --config policy --socket socket` and waits
// until the socket exists.
func Start(sysgate, policy, socket string) (*Process, error) {
	p := &Process{Socket: socket, done: make(chan struct{})}
	p.cmd = exec.Command(sysgate, "helper", "--config", policy, "--socket", socket)
	p.cmd.Stdout, p.cmd.Stderr = &p.log, &p.log
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.cmd.Wait(); close(p.done) }()
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

// Stop ends the helper with SIGTERM, as systemd does, and waits for it.
func (p *Process) Stop() error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("sysgate helper ignored SIGTERM for 10 s")
	}
	if p.cmd.ProcessState != nil && !p.cmd.ProcessState.Success() {
		return fmt.Errorf("sysgate helper: %v: %s", p.cmd.ProcessState, p.Log())
	}
	return nil
}

// Kill ends the helper with SIGKILL, as a crash or the OOM killer would,
// and waits for it; its socket stays behind, stale.
func (p *Process) Kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// Done is closed when the helper has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Pid is the helper's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Log is what the helper has written so far.
func (p *Process) Log() string { return p.log.String() }

// Memory is the helper's resident set now and at its peak, from
// /proc/<pid>/status.
func (p *Process) Memory() string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
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
