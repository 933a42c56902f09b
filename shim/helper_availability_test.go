package shim

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// failingListener fails its first accepts with EMFILE, as a helper out of
// descriptors would, then accepts for real.
type failingListener struct {
	*net.UnixListener
	failures int
}

func (l *failingListener) AcceptUnix() (*net.UnixConn, error) {
	if l.failures > 0 {
		l.failures--
		return nil, &net.OpError{Op: "accept", Net: "unixpacket", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.UnixListener.AcceptUnix()
}

// A helper that runs out of descriptors waits and goes on serving: exiting
// would slow every create on the node by the client's fallback (issue 13,
// item 10).
func TestHelperSurvivesAcceptErrors(t *testing.T) {
	n := newHelperNode(t, "")
	socket := filepath.Join(t.TempDir(), "second.sock")
	l, err := ListenHelper(socket)
	if err != nil {
		t.Fatal(err)
	}
	h := &Helper{PolicyPath: n.policy}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.serveOn(ctx, &failingListener{UnixListener: l, failures: 3}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	if kind, detail := askHelper(t, socket, n.policy, "/", "create", "--bundle", n.bundle, "c1"); kind != helperReplyOK {
		t.Fatalf("after three failed accepts: reply %s %q", kind, detail)
	}
	if got := h.acceptErrors.Load(); got != 3 {
		t.Errorf("%d accept errors counted, want 3", got)
	}
}

// Clients that connect and never send hold at most helperMaxInFlight
// requests; the next client is turned away at once, and falls back.
func TestHelperCapsRequestsInFlight(t *testing.T) {
	n := newHelperNode(t, "")
	var idle []*net.UnixConn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	addr := &net.UnixAddr{Name: n.socket, Net: "unixpacket"}
	for range helperMaxInFlight {
		c, err := net.DialUnix("unixpacket", nil, addr)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	// Let the helper take them all.
	deadline := time.Now().Add(10 * time.Second)
	extra, err := net.DialUnix("unixpacket", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	extra.SetReadDeadline(deadline)
	start := time.Now()
	buf := make([]byte, 64)
	if n, err := extra.Read(buf); err == nil && n > 0 {
		t.Fatalf("the extra client got a reply %q", buf[:n])
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("the extra client waited %s: it must be turned away at once", waited)
	}
	for _, c := range idle {
		c.Close()
	}
	idle = nil
	// Once the idle ones are gone, creates are served again.
	time.Sleep(100 * time.Millisecond)
	if kind, detail := askHelper(t, n.socket, n.policy, "/", "create", "--bundle", n.bundle, "c2"); kind != helperReplyOK {
		t.Fatalf("after the burst: reply %s %q", kind, detail)
	}
}

// A FIFO as config.json once hung a helper goroutine, and the client's
// fallback with it; it is now handed back at once.
func TestHelperHandsBackAFIFO(t *testing.T) {
	n := newHelperNode(t, "")
	os.Remove(n.config)
	if err := syscall.Mkfifo(n.config, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	kind, detail := askHelper(t, n.socket, n.policy, "/", "create", "--bundle", n.bundle, "c1")
	if kind != helperReplyFallback || !strings.Contains(detail, "is not a regular file") || time.Since(start) > 5*time.Second {
		t.Fatalf("reply %s %q after %s", kind, detail, time.Since(start))
	}
}
