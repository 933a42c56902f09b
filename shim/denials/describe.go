package denials

import (
	"strings"

	"github.com/sysgate/sysgate/filter/bpf"
	"github.com/sysgate/sysgate/spec"
)

// describe attributes and names one event. It never fails: what cannot be
// known is said in the line.
func (c *Collector) describe(ev event) *Denial {
	d := &Denial{Kind: "denial", SourceName: c.srcName}
	if ev.err != nil {
		c.garbledN.Add(1)
		d.Unattributed = "garbled record: " + ev.err.Error()
		d.Syscall, d.ABI, d.Action = "(unreadable)", "(unreadable)", "(unreadable)"
		return d
	}
	r := ev.rec
	sc := NameSyscall(r.Arch, r.Nr)
	d.Pid, d.Comm, d.Exe = r.Pid, r.Comm, r.Exe
	d.Syscall, d.Nr, d.ABI, d.ABIBypass, d.Action = sc.Name, sc.Nr, sc.ABI, sc.Bypass, ActionName(r.Code)
	if ev.why != "" {
		// The process was gone when its record came. Its fork may still
		// be on its way from the process events connector: give it a
		// moment, then ask the cache again.
		// With process events applied up to the record, the cache holds
		// the last process forked with this pid, which is the one that
		// made the call (a later one would have been alive in /proc and
		// its comm compared): its comm need not match, it may have
		// exec'd unseen.
		c.pids.waitFor(ev.mono, attributionGrace)
		if info, ok := c.pids.get(r.Pid); ok && ev.gone && (c.pids.cursor.Load() >= ev.mono || commMatches(info.comm, r.Comm)) {
			ev.info, ev.why = info, ""
		}
	}
	if ev.why != "" {
		d.Unattributed = ev.why
		return d
	}
	dec, id, ok := c.attribute(ev.info)
	if !ok {
		d.Unattributed = id
		return d
	}
	d.Container = id
	if dec == nil {
		d.Note = "container " + id + " has no entry in the decision log " + c.DecisionLog + "; its Pod and profile are unknown"
		return d
	}
	d.Namespace, d.Pod, d.Name = dec.Container.Namespace, dec.Container.Pod, dec.Container.Name
	d.Source, d.Type, d.Ref, d.Digest = dec.Source, string(dec.Type), dec.Ref, dec.Digest
	d.Note = dec.DenialsNote
	if dec.Audit && bpf.RetAction(r.Code) == bpf.RetLog {
		d.WouldDeny = true
	}
	if dec.Digest == "" {
		d.Rule = "none: the container runs unconfined"
		return d
	}
	var verdict uint32
	d.Rule, verdict = c.profs.rule(*dec, sc, r.Arch, r.Nr, r.Code)
	if verdict != r.Code {
		d.Action = bpf.RetName(verdict)
	}
	return d
}

// attribute finds the container among the process's cgroup paths: the
// first candidate id the decision log knows; failing that, a 64-hex id
// (a container, without a decision entry). It returns the reason instead
// of an id when the process is in no container.
func (c *Collector) attribute(info procInfo) (*spec.DecisionRecord, string, bool) {
	var hexID string
	for _, path := range info.cgroups {
		for _, id := range containerIDs(path) {
			if dec, ok := c.index.lookup(id); ok {
				return &dec, id, true
			}
			if hexID == "" && isHexID(id) {
				hexID = id
			}
		}
	}
	if hexID != "" {
		return nil, hexID, true
	}
	// No cgroup of its own: the root directory may still be a
	// container's. The host's root is nobody's bundle rootfs.
	if info.root != (fileKey{}) {
		if dec, id, ok := c.index.lookupRoot(info.root); ok {
			return &dec, id, true
		}
	}
	paths := strings.Join(uniq(info.cgroups), ", ")
	if paths == "" {
		paths = "none"
	}
	return nil, "not in a container sysgate decided (cgroup " + paths + ")", false
}

func isHexID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

func uniq(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
