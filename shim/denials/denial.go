package denials

import "time"

// Denial is one line of the denial log: a deduplicated (container, syscall,
// ABI, action) with its count so far. A later line for the same key
// supersedes an earlier one. Lines with Kind "lost" carry the loss counters
// instead.
type Denial struct {
	Kind string `json:"kind"` // "denial" or "lost"

	// Who. Container is the container id; for a record that could not be
	// attributed, Unattributed says why and Pid names the process.
	Container    string `json:"container,omitempty"`
	Namespace    string `json:"namespace,omitempty"`
	Pod          string `json:"pod,omitempty"`
	Name         string `json:"name,omitempty"`
	Unattributed string `json:"unattributed,omitempty"`
	Pid          int    `json:"pid,omitempty"`
	Comm         string `json:"comm,omitempty"`
	Exe          string `json:"exe,omitempty"`

	// The profile the container runs, from the decision log.
	Source string `json:"source,omitempty"`
	Type   string `json:"type,omitempty"`
	Ref    string `json:"ref,omitempty"`
	Digest string `json:"digest,omitempty"`
	// Note qualifies what the log can show for this container, e.g. that
	// runc 1.1 reports only LOG and KILL outcomes.
	Note string `json:"note,omitempty"`

	// What.
	Syscall   string `json:"syscall,omitempty"`
	Nr        int    `json:"nr"`
	ABI       string `json:"abi,omitempty"`
	ABIBypass bool   `json:"abiBypass,omitempty"`
	Action    string `json:"action,omitempty"`
	// WouldDeny: the container runs in audit mode and the LOG outcome
	// stands for a denial ("would have been denied").
	WouldDeny bool   `json:"wouldDeny,omitempty"`
	Rule      string `json:"rule,omitempty"`

	Count     uint64    `json:"count"`
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`

	// Lost lines: records the collector knows it did not see, and why.
	Lost       *Lost  `json:"lost,omitempty"`
	SourceName string `json:"from,omitempty"` // netlink or kmsg
}

// Lost counts records that never became denial lines.
type Lost struct {
	// Gaps: audit serials skipped between records received: the kernel
	// dropped them (rate limit, printk limit, socket overflow).
	Gaps uint64 `json:"gaps"`
	// Dropped: records the collector received but could not keep up with.
	Dropped uint64 `json:"dropped"`
	// Overruns: the kernel log or the socket overflowed an unknown number
	// of records (/dev/kmsg EPIPE, netlink ENOBUFS).
	Overruns uint64 `json:"overruns"`
	// Garbled: records that did not parse; each is also a denial line
	// with Unattributed saying so.
	Garbled uint64 `json:"garbled"`
	// KernelLost: the kernel's own audit lost counter since the collector
	// started: records the kernel dropped before giving them a serial
	// (backlog limit, rate limit), which no gap shows. It is node-wide and
	// of every record type, so it may over-count; Total takes the larger
	// of it and the gaps, never their sum (a record can be both).
	KernelLost uint64 `json:"kernelLost"`
	// Suppressed: audit records the kernel log's printk rate limit
	// reported it kept out ("callbacks suppressed"; kernel log only).
	Suppressed uint64 `json:"suppressed,omitempty"`
}

// Total is the records the collector knows it lost.
func (l Lost) Total() uint64 {
	kernel := l.Gaps
	if l.KernelLost+l.Suppressed > kernel {
		kernel = l.KernelLost + l.Suppressed
	}
	return kernel + l.Dropped
}

// key is what deduplicates: the container (or, unattributed, the pid and
// why), syscall, ABI and action.
type key struct {
	container, unattributed string
	pid                     int
	syscall, abi, action    string
}

func (d *Denial) key() key {
	k := key{container: d.Container, syscall: d.Syscall, abi: d.ABI, action: d.Action}
	if d.Container == "" {
		k.unattributed, k.pid = d.Unattributed, d.Pid
	}
	return k
}
