package denials

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what the denial log holds: the latest line per key, and the
// latest loss counters.
type Report struct {
	Denials []Denial
	Lost    Lost
	// Corrupt counts lines that are not denial lines (a torn write, an
	// edit): said, not hidden.
	Corrupt int
}

// ReadLog reads the denial log and its rotated predecessor.
func ReadLog(path string) (Report, error) {
	var rep Report
	latest := map[key]Denial{}
	found := false
	for _, p := range []string{path + ".1", path} {
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return rep, fmt.Errorf("denial log %s: %w", p, err)
		}
		found = true
		_, err = readLines(f, func(d Denial) {
			if d.Kind == "lost" && d.Lost != nil {
				rep.Lost = *d.Lost
				return
			}
			latest[d.key()] = d
		}, &rep.Corrupt)
		f.Close()
		if err != nil {
			return rep, fmt.Errorf("denial log %s: %w", p, err)
		}
	}
	if !found {
		return rep, fmt.Errorf("denial log %s does not exist: is the collector running (policy denials = true, `sysgate helper`)?", path)
	}
	for _, d := range latest {
		rep.Denials = append(rep.Denials, d)
	}
	sort.Slice(rep.Denials, func(i, j int) bool { return rep.Denials[i].LastSeen.Before(rep.Denials[j].LastSeen) })
	return rep, nil
}

// readLines reads whole JSON lines from r, returning the bytes consumed
// (up to the last newline).
func readLines(r io.Reader, each func(Denial), corrupt *int) (int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var n int64
	for {
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n += int64(len(line))
		var d Denial
		if json.Unmarshal(line, &d) != nil || (d.Kind != "denial" && d.Kind != "lost") {
			*corrupt++
			continue
		}
		each(d)
	}
}

// Filter selects denials.
type Filter struct {
	Since     time.Time
	Namespace string
	Pod       string
	Container string // name or id
	Pid       int
}

// Match reports whether a denial passes the filter.
func (f Filter) Match(d Denial) bool {
	switch {
	case !f.Since.IsZero() && d.LastSeen.Before(f.Since):
	case f.Namespace != "" && d.Namespace != f.Namespace:
	case f.Pod != "" && d.Pod != f.Pod:
	case f.Container != "" && d.Name != f.Container && d.Container != f.Container && !strings.HasPrefix(d.Container, f.Container):
	case f.Pid != 0 && d.Pid != f.Pid:
	default:
		return true
	}
	return false
}

// WriteTable prints denials for a person: one row each, then what was
// lost and what cannot be shown.
func WriteTable(w io.Writer, ds []Denial, lost Lost, corrupt int) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LAST SEEN\tNAMESPACE\tPOD\tCONTAINER\tSYSCALL\tABI\tACTION\tCOUNT\tRULE")
	notes := map[string]bool{}
	for _, d := range ds {
		who := d.Name
		if who == "" && d.Container != "" {
			who = shortID(d.Container)
		}
		ns, pod := orDash(d.Namespace), orDash(d.Pod)
		if d.Container == "" {
			ns, pod, who = "-", "-", fmt.Sprintf("(pid %d %s: unattributed)", d.Pid, d.Comm)
			notes[fmt.Sprintf("pid %d: %s", d.Pid, d.Unattributed)] = true
		}
		abi := d.ABI
		if d.ABIBypass {
			abi += " (ABI bypass attempt)"
		}
		action := strings.TrimPrefix(d.Action, "SCMP_ACT_")
		if d.WouldDeny {
			action += " (would have been denied)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", d.LastSeen.Local().Format("15:04:05"), clean(ns), clean(pod), clean(who), d.Syscall, abi, action, d.Count, clean(d.Rule))
		if d.Note != "" {
			notes[d.Note] = true
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if lost.Total() > 0 || lost.Overruns > 0 {
		fmt.Fprintf(w, "%d records lost (%d skipped by the kernel, %d dropped by the collector", lost.Total(), lost.Total()-lost.Dropped, lost.Dropped)
		if lost.Overruns > 0 {
			fmt.Fprintf(w, ", plus %d overflows of unknown size", lost.Overruns)
		}
		fmt.Fprintln(w, ")")
	}
	if lost.KernelLost > 0 {
		fmt.Fprintf(w, "(of which the kernel's audit lost counter, node-wide and of every record type: %d)\n", lost.KernelLost)
	}
	if lost.Garbled > 0 {
		fmt.Fprintf(w, "%d records could not be read (shown as unattributed)\n", lost.Garbled)
	}
	if corrupt > 0 {
		fmt.Fprintf(w, "%d line(s) of the denial log are not denial records and were skipped\n", corrupt)
	}
	var sorted []string
	for n := range notes {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		fmt.Fprintln(w, "note:", clean(n))
	}
	return nil
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clean keeps names from the Pod's author and from processes on one line.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
