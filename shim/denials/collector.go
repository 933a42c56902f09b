package denials

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sysgate/sysgate/spec"
)

// Collector reads seccomp records, attributes and deduplicates them, and
// writes the denial log. Start it with Run.
type Collector struct {
	// DecisionLog and DenialLog are the policy's files.
	DecisionLog       string
	DenialLog         string
	DenialLogMaxBytes int64
	// Source is "netlink", "kmsg" or "" (netlink when audit is enabled,
	// else the kernel log: with audit off the kernel sends nothing to the
	// read-log group and prints the records instead).
	Source string
	// KmsgPath and ProcRoot default to /dev/kmsg and /proc; tests point
	// them elsewhere.
	KmsgPath string
	ProcRoot string
	// SocketBuffer is the netlink socket's receive buffer in bytes (0:
	// 128 MiB); tests shrink it to make it overflow.
	SocketBuffer int
	// Metrics, if set, counts denials and losses.
	Metrics *Metrics
	Log     *slog.Logger

	// FlushEvery is how often changed lines are written (default 250ms):
	// a denial is in the log well within 2 s.
	FlushEvery time.Duration

	events  chan event
	index   *decisionIndex
	pids    *pidCache
	profs   profiles
	serials serialTracker

	dropped, overruns, garbledN, suppressedN atomic.Uint64
	serialMu                                 sync.Mutex

	mu      sync.Mutex
	entries map[key]*Denial
	dirty   map[key]bool
	lost    Lost
	lostOut Lost // what the log says so far
	writer  logWriter
	srcName string
	kernel0 uint32
	hasK0   bool
}

// event is a record with what /proc said the moment it arrived.
type event struct {
	rec  Record
	info procInfo
	why  string // when /proc could not say
	err  error  // the record did not parse
	raw  string
	at   time.Time
	mono int64 // CLOCK_MONOTONIC when the record came
	gone bool  // the process had exited when the record came
}

// attributionGrace bounds how long a record of a process already gone
// waits for the process events before it (a busy node forks thousands of
// processes a second, each read from /proc).
const attributionGrace = 2 * time.Second

// maxEntries bounds the deduplicated lines held in memory; written lines
// beyond it are forgotten, their counts stay in the log.
const maxEntries = 10000

// Run reads records until ctx is done. It fails only when no source can be
// opened or the denial log cannot be written at all.
func (c *Collector) Run(ctx context.Context) error {
	c.init()
	src, err := c.open()
	if err != nil {
		return err
	}
	c.srcName = src.name()
	if err := c.writer.open(); err != nil {
		return err
	}
	defer c.writer.close()
	if st, err := GetAuditStatus(); err == nil {
		c.kernel0, c.hasK0 = st.Lost, true
	}
	c.Log.Info("denial collector started", "source", c.srcName, "denial_log", c.DenialLog, "decision_log", c.DecisionLog)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var srcErr error
	wg.Go(func() {
		srcErr = src.run(ctx, c)
		cancel()
	})
	wg.Go(func() { c.process(ctx) })
	if pe, err := openProcEvents(); err == nil {
		wg.Go(func() { pe.run(ctx, c.ProcRoot, c.pids) })
	} else {
		c.Log.Warn("denials of processes that exit at once may go unattributed", "error", err)
	}
	wg.Go(func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				c.pids.scanNew(c.ProcRoot)
			}
		}
	})
	t := time.NewTicker(c.FlushEvery)
	defer t.Stop()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-t.C:
		}
		if err := c.flush(); err != nil {
			c.Log.Warn("denial log", "error", err)
		}
	}
	wg.Wait()
	// Drain what was read before the end.
	c.drain()
	if err := c.flush(); err != nil {
		c.Log.Warn("denial log", "error", err)
	}
	return srcErr
}

func (c *Collector) init() {
	if c.ProcRoot == "" {
		c.ProcRoot = "/proc"
	}
	if c.KmsgPath == "" {
		c.KmsgPath = "/dev/kmsg"
	}
	if c.FlushEvery == 0 {
		c.FlushEvery = 250 * time.Millisecond
	}
	if c.DenialLogMaxBytes == 0 {
		c.DenialLogMaxBytes = spec.DefaultPolicy().DenialLogMaxBytes
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	c.events = make(chan event, 1<<16)
	c.index = newDecisionIndex(c.DecisionLog)
	c.pids = newPidCache(1 << 16)
	c.entries, c.dirty = map[key]*Denial{}, map[key]bool{}
	c.writer = logWriter{path: c.DenialLog, maxBytes: c.DenialLogMaxBytes}
}

type source interface {
	name() string
	run(ctx context.Context, s sink) error
}

// sink is what a source hands records to.
type sink interface {
	record(typ int, text []byte)
	overrun()
	garbled(raw []byte, err error)
	suppressed(n uint64)
}

func (c *Collector) open() (source, error) {
	switch c.Source {
	case "netlink":
		return openNetlink(c.SocketBuffer)
	case "kmsg":
		return openKmsg(c.KmsgPath)
	case "":
	default:
		return nil, fmt.Errorf("denial source %q: want netlink, kmsg or empty (automatic)", c.Source)
	}
	st, err := GetAuditStatus()
	if err == nil && st.Enabled != 0 {
		if s, err := openNetlink(c.SocketBuffer); err == nil {
			return s, nil
		}
	}
	s, kerr := openKmsg(c.KmsgPath)
	if kerr != nil {
		return nil, errors.Join(fmt.Errorf("audit is off or its netlink socket cannot be read (%v), and", err), kerr)
	}
	return s, nil
}

// record is called by the source, on its goroutine, for every audit
// record. It reads /proc right away: the process may exit a moment later.
func (c *Collector) record(typ int, text []byte) {
	if serial, ok := stampSerial(text); ok {
		c.serialMu.Lock()
		c.serials.see(serial)
		c.serialMu.Unlock()
	}
	if typ != AuditSeccomp {
		return
	}
	ev := event{at: time.Now(), mono: monotonicNow()}
	ev.rec, ev.err = ParseRecord(text)
	if ev.err != nil {
		ev.raw = truncate(text)
	} else {
		ev.info, ev.why, ev.gone = lookupProc(c.ProcRoot, c.pids, ev.rec.Pid, ev.rec.Comm)
	}
	select {
	case c.events <- ev:
	default:
		c.dropped.Add(1)
	}
}

func (c *Collector) overrun() { c.overruns.Add(1) }

func (c *Collector) suppressed(n uint64) { c.suppressedN.Add(n) }

func (c *Collector) garbled(raw []byte, err error) {
	select {
	case c.events <- event{err: err, raw: truncate(raw), at: time.Now()}:
	default:
		c.dropped.Add(1)
	}
}

func (c *Collector) process(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-c.events:
			c.handle(ev)
		}
	}
}

func (c *Collector) drain() {
	for {
		select {
		case ev := <-c.events:
			c.handle(ev)
		default:
			return
		}
	}
}

// handle turns an event into (a count on) a denial line.
func (c *Collector) handle(ev event) {
	d := c.describe(ev)
	c.mu.Lock()
	defer c.mu.Unlock()
	k := d.key()
	if have, ok := c.entries[k]; ok {
		have.Count++
		have.LastSeen = ev.at
		have.Pid, have.Comm, have.Exe = d.Pid, d.Comm, d.Exe
	} else {
		if len(c.entries) >= maxEntries {
			for k := range c.entries {
				if !c.dirty[k] {
					delete(c.entries, k)
				}
			}
		}
		d.Count, d.FirstSeen, d.LastSeen = 1, ev.at, ev.at
		c.entries[k] = d
	}
	c.dirty[k] = true
	c.Metrics.observe(d)
}
