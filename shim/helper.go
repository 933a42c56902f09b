package shim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/profile"
	"github.com/sysgate/sysgate/spec/refusal"
	"golang.org/x/sys/unix"
)

// Helper is the resident side of sysgate-runc's create: a process that has
// already started, read the policy and warmed its decoders, so that a
// create costs sysgate-runc one round trip instead of starting the Go
// runtime. It serves only what it can do exactly as sysgate-runc would:
// the same policy file, a caller in its own mount namespace with its own
// capability bounding set, and a create with nothing to warn about. For
// everything else, errors included, it answers "fallback" and sysgate-runc
// does the work itself, so that errors reach the caller's stderr and --log
// as before.
type Helper struct {
	// PolicyPath is the policy this helper serves; requests naming another
	// fall back.
	PolicyPath string
	Log        *slog.Logger
	// Metrics, if set, counts decisions, refusals, cache lookups and plan
	// time of the creates the helper plans.
	Metrics CreateMetrics
	// Services is what this process serves beside creates, as
	// spec.Policy.HelperServices said at start. Those services start with
	// the process, so when Restart is set and a reloaded policy asks for
	// others, the helper hands every create back and calls Restart (the
	// service manager starts it again, with the right binary and
	// services). Embedders that serve no services leave Restart nil.
	Services string
	Restart  func(reason string)

	mu     sync.Mutex
	policy spec.Policy
	stamp  fileStamp
	self   identity

	served, fellBack, acceptErrors atomic.Int64
	restartOnce                    sync.Once
}

// helperDeadline bounds one request; the client gives up earlier
// (fastpath.c's HELPER_TIMEOUT_SECONDS) and does the work itself.
const helperDeadline = 10 * time.Second

// ListenHelper makes the helper's socket: a root-only directory, a stale
// socket replaced, mode 0600.
func ListenHelper(path string) (*net.UnixListener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("helper socket directory: %w", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("removing the stale helper socket: %w", err)
	}
	l, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		return nil, fmt.Errorf("helper socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("helper socket: %w", err)
	}
	return l, nil
}

// Serve answers requests until ctx ends or the listener fails.
func (h *Helper) Serve(ctx context.Context, l *net.UnixListener) error {
	return h.serveOn(ctx, l)
}

// helperListener is what Serve needs of its listener; tests stand in a
// failing one.
type helperListener interface {
	AcceptUnix() (*net.UnixConn, error)
	Close() error
}

// helperMaxInFlight caps the creates served at once. A request beyond it is
// closed at once, and its client prepares the bundle itself: a burst of
// creates, or clients that never send, cannot pile up goroutines and
// descriptors in a resident process.
const helperMaxInFlight = 64

// acceptBackoffMax bounds the pause after a failed accept (EMFILE, ENFILE,
// ENOBUFS): the helper waits for descriptors to come back instead of
// exiting, which would slow every create on the node.
const acceptBackoffMax = time.Second

func (h *Helper) serveOn(ctx context.Context, l helperListener) error {
	if h.Log == nil {
		h.Log = slog.New(slog.DiscardHandler)
	}
	if !filepath.IsAbs(h.PolicyPath) {
		return fmt.Errorf("helper policy %q: the path must be absolute, as clients name it", h.PolicyPath)
	}
	defer l.Close()
	self, err := identityOf("/proc/self", "/")
	if err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	h.self = self
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	inFlight := make(chan struct{}, helperMaxInFlight)
	// Requests in flight finish and get their answer before Serve
	// returns (each is bounded by helperDeadline): a helper stopping, or
	// exiting to restart, must not cut a create off mid-way.
	var handlers sync.WaitGroup
	defer handlers.Wait()
	var backoff time.Duration
	for {
		conn, err := l.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), acceptBackoffMax)
			h.acceptErrors.Add(1)
			h.Log.Warn("accept failed; retrying", "err", err, "in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return nil
			}
			continue
		}
		backoff = 0
		select {
		case inFlight <- struct{}{}:
			handlers.Go(func() {
				defer func() { <-inFlight }()
				h.handle(conn)
			})
		default:
			h.fellBack.Add(1)
			h.Log.Warn("busy: the client prepares its own bundle", "in flight", helperMaxInFlight)
			conn.Close()
		}
	}
}

// StartHelper listens on socket and serves policyPath in the background,
// for a process that embeds the helper (tests); `sysgate helper` serves in
// the foreground instead. stop ends it and returns what Serve returned.
func StartHelper(policyPath, socket string) (h *Helper, stop func() error, err error) {
	l, err := ListenHelper(socket)
	if err != nil {
		return nil, nil, err
	}
	h = &Helper{PolicyPath: policyPath}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx, l) }()
	return h, func() error { cancel(); return <-done }, nil
}

// Counts says how many creates the helper did and how many it handed back.
func (h *Helper) Counts() (served, fellBack int64) { return h.served.Load(), h.fellBack.Load() }

func (h *Helper) handle(conn *net.UnixConn) {
	defer conn.Close()
	start := time.Now()
	conn.SetDeadline(start.Add(helperDeadline))
	runtime, id, err := h.serve(conn)
	reply := helperReply(helperReplyOK, runtime)
	if err != nil {
		h.fellBack.Add(1)
		h.Log.Info("handed back to sysgate-runc", "container", id, "reason", err.Error())
		reply = helperReply(helperReplyFallback, err.Error())
	} else {
		h.served.Add(1)
		h.Log.Debug("prepared", "container", id, "took", time.Since(start))
	}
	conn.Write(reply)
}

// serve does one create; it returns the runtime to exec, or why the client
// must do it itself.
func (h *Helper) serve(conn *net.UnixConn) (runtime, id string, err error) {
	msg := make([]byte, helperRequestMax+1)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, flags, _, err := conn.ReadMsgUnix(msg, oob)
	if err != nil {
		return "", "", fmt.Errorf("reading the request: %w", err)
	}
	fds, err := receivedFiles(oob[:oobn])
	defer func() {
		for _, f := range fds {
			f.Close()
		}
	}()
	if err != nil {
		return "", "", err
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 || n > helperRequestMax {
		return "", "", errors.New("request too large")
	}
	if len(fds) != 2 {
		return "", "", fmt.Errorf("request carries %d descriptors, want the working directory and the root", len(fds))
	}
	req, err := parseHelperRequest(msg[:n])
	if err != nil {
		return "", "", err
	}
	cwd, root := fds[0], fds[1]
	client, err := h.checkPeer(conn, root)
	if err != nil {
		return "", "", err
	}
	if !filepath.IsAbs(req.PolicyPath) || filepath.Clean(req.PolicyPath) != filepath.Clean(h.PolicyPath) {
		return "", "", fmt.Errorf("the client reads policy %s, this helper serves %s", req.PolicyPath, h.PolicyPath)
	}
	policy, err := h.currentPolicy()
	if err != nil {
		return "", "", err
	}
	// "Privileged" is measured against the client's bounding set, as
	// sysgate-runc would measure it against its own.
	policy.HostBoundingSet = client.boundingSet
	inv := ParseInvocation(req.Args)
	if inv.Unclear != "" {
		return "", inv.ContainerID, errors.New(inv.Unclear)
	}
	if inv.Command != "create" && inv.Command != "run" {
		return "", inv.ContainerID, fmt.Errorf("command %q is not create or run", inv.Command)
	}
	if inv.CreatesNothing != "" {
		return "", inv.ContainerID, fmt.Errorf("the command creates nothing (%s): the runtime answers it", inv.CreatesNothing)
	}
	path, err := lookRuntime(policy.Runtime)
	if err != nil {
		return "", inv.ContainerID, err
	}
	// The bundle resolves relative to the client's working directory, by
	// the kernel, as the runtime's chdir will from there.
	start := time.Now()
	c, err := spec.Plan(cwd, inv.Bundle, inv.ContainerID, policy)
	defer c.Close()
	h.count(c, err, time.Since(start))
	if err != nil {
		return "", inv.ContainerID, err
	}
	// The client execs the runtime with its own arguments, which name the
	// bundle again: serve only when they name it by its real path (or not
	// at all: the client's working directory), so that no symlink or ".."
	// in them can point the runtime elsewhere between this edit and its
	// chdir. sysgate-runc passes the real path itself.
	if inv.Bundle != "." && inv.Bundle != c.Bundle.Dir {
		return "", inv.ContainerID, fmt.Errorf("the bundle path %q is not the directory's real path %s", inv.Bundle, c.Bundle.Dir)
	}
	if c.Warning != "" {
		return "", inv.ContainerID, errors.New("the decision carries a warning for the caller")
	}
	if c.Decision.Record != nil {
		return "", inv.ContainerID, errors.New("record mode: sysgate-runc starts the recording itself, rooted at its own process")
	}
	err = c.Commit("helper", func(msg string) { h.Log.Warn(msg, "container", inv.ContainerID) })
	return path, inv.ContainerID, err
}

// receivedFiles takes the descriptors out of a control message.
func receivedFiles(oob []byte) ([]*os.File, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("control message: %w", err)
	}
	var files []*os.File
	for _, m := range msgs {
		fds, err := unix.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			files = append(files, os.NewFile(uintptr(fd), "client descriptor"))
		}
	}
	return files, nil
}

// identity is what the helper knows of a client: its mount namespace and
// root, which must be the helper's (so that absolute paths, the policy and
// Localhost profiles mean the same for both), and its capability bounding
// set, which the decision measures "privileged" against
// (Policy.HostBoundingSet), as sysgate-runc would against its own.
type identity struct {
	mountNS, root fileID
	boundingSet   uint64
}

type fileID struct{ dev, ino uint64 }

func statID(path string) (fileID, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return fileID{}, err
	}
	return fileID{st.Dev, st.Ino}, nil
}

// identityOf reads a process's identity; root is its root directory as the
// helper can reach it.
func identityOf(proc, root string) (identity, error) {
	var id identity
	var err error
	if id.mountNS, err = statID(proc + "/ns/mnt"); err != nil {
		return id, err
	}
	if id.root, err = statID(root); err != nil {
		return id, err
	}
	id.boundingSet, err = spec.BoundingSet(proc + "/status")
	return id, err
}

// checkPeer returns the client's identity when the helper may serve it: the
// same user, mount namespace and root, so that paths mean the same.
func (h *Helper) checkPeer(conn *net.UnixConn, root *os.File) (identity, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return identity{}, err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return identity{}, err
	}
	if credErr != nil {
		return identity{}, fmt.Errorf("peer credentials: %w", credErr)
	}
	if int(cred.Uid) != os.Geteuid() {
		return identity{}, fmt.Errorf("client uid %d is not the helper's %d", cred.Uid, os.Geteuid())
	}
	if cred.Pid <= 0 {
		return identity{}, errors.New("the client's pid is not visible in the helper's pid namespace")
	}
	theirs, err := identityOf("/proc/"+strconv.Itoa(int(cred.Pid)), "/proc/self/fd/"+strconv.Itoa(int(root.Fd())))
	switch {
	case err != nil:
		return theirs, fmt.Errorf("the client's identity: %w", err)
	case theirs.mountNS != h.self.mountNS:
		return theirs, errors.New("the client is in another mount namespace")
	case theirs.root != h.self.root:
		return theirs, errors.New("the client has another root directory")
	}
	return theirs, nil
}

// fileStamp tells whether the policy file changed since it was read.
type fileStamp struct {
	exists         bool
	dev, ino, size uint64
	mtime, ctime   int64
}

func stampOf(path string) (fileStamp, error) {
	var st unix.Stat_t
	err := unix.Stat(path, &st)
	if errors.Is(err, syscall.ENOENT) {
		return fileStamp{}, nil
	}
	if err != nil {
		return fileStamp{}, fmt.Errorf("policy %s: %w", path, err)
	}
	return fileStamp{exists: true, dev: st.Dev, ino: st.Ino, size: uint64(st.Size),
		mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano()}, nil
}

// currentPolicy rereads the policy when its file changed, so that an edit
// takes effect at the next create, as it does without the helper.
func (h *Helper) currentPolicy() (spec.Policy, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	stamp, err := stampOf(h.PolicyPath)
	if err != nil {
		return spec.Policy{}, err
	}
	if stamp == h.stamp && h.policy.Runtime != "" {
		// The file is the same, but who may write it, the profile root
		// and the cache can change without it: check as a fresh load does.
		if err := h.policy.CheckTrusted(); err != nil {
			return spec.Policy{}, err
		}
		return h.policy, nil
	}
	policy, err := spec.LoadPolicy(h.PolicyPath)
	if err != nil {
		h.policy = spec.Policy{}
		return spec.Policy{}, err
	}
	if services := policy.HelperServices(); h.Restart != nil && services != h.Services {
		err := fmt.Errorf("policy %s now asks the helper to serve %q, not %q; the helper restarts to serve it", h.PolicyPath, services, h.Services)
		h.restartOnce.Do(func() { h.Restart(err.Error()) })
		return spec.Policy{}, err
	}
	h.policy, h.stamp = policy, stamp
	return policy, nil
}

// CreateMetrics counts the creates the helper plans; `sysgate helper`
// passes shim/denials' Prometheus metrics. An interface, so that
// sysgate-runc, which links shim and starts once per create, links neither
// Prometheus nor its initialisation (TestSysgateRuncLinksNoMetrics).
type CreateMetrics interface {
	PlanSeconds(seconds float64)
	Refused(reason string)
	Decided(source, typ string, unconfined bool)
	CacheLookup(hit bool)
}

// count feeds a planned create to the metrics. A refused create falls
// back to sysgate-runc, which refuses it the same way: counted here once.
func (h *Helper) count(c *spec.Create, err error, took time.Duration) {
	CountCreate(h.Metrics, c, err, took)
}

// CountCreate feeds one planned create (the helper's, the NRI plugin's) to
// m, which may be nil.
func CountCreate(m CreateMetrics, c *spec.Create, err error, took time.Duration) {
	if m == nil {
		return
	}
	m.PlanSeconds(took.Seconds())
	if err != nil {
		if reason, ok := refusal.Of(err); ok {
			m.Refused(string(reason))
		} else {
			m.Refused("internal")
		}
		return
	}
	d := c.Decision
	m.Decided(d.Source, string(d.Type), d.Type == profile.TypeUnconfined || c.Warning != "")
	if d.Profile != nil {
		m.CacheLookup(c.CacheHit)
	}
}
