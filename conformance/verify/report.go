package verify

import (
	"fmt"

	"github.com/sysgate/sysgate/spec/profile"
)

// Class is how a container's init process is confined, as ps counts it.
type Class string

const (
	// ClassSysgate: a seccomp filter, from a profile sysgate decided.
	ClassSysgate Class = "sysgate"
	// ClassOther: a seccomp filter (or strict mode), but no decision of
	// sysgate's: another handler, a plain `runc run`, a profile of its own.
	ClassOther Class = "other"
	// ClassUnconfined: no seccomp at all.
	ClassUnconfined Class = "unconfined"
)

// Status is the verdict on a container's filters.
type Status string

const (
	// StatusEqual: every thread checked holds exactly the decided filter
	// (none, when unconfined was decided).
	StatusEqual Status = "equal"
	// StatusDiffers: some thread holds other filters: verdicts differ, a
	// filter is missing, or filters are stacked on it.
	StatusDiffers Status = "differs"
	// StatusUnverified: something could not be read or compared; never
	// taken for equal.
	StatusUnverified Status = "unverified"
	// StatusNotDecided: sysgate has no decision for this container.
	StatusNotDecided Status = "not-decided"
)

// Report is one container: what the kernel holds, what sysgate decided,
// and whether the two agree.
type Report struct {
	ID        string `json:"id,omitempty"`
	Engine    string `json:"engine,omitempty"`
	Handler   string `json:"handler,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Pod       string `json:"pod,omitempty"`
	PodUID    string `json:"podUID,omitempty"`
	Name      string `json:"name,omitempty"`
	Cgroup    string `json:"cgroup,omitempty"`
	Bundle    string `json:"bundle,omitempty"`
	InitPID   int    `json:"initPid"`
	Processes int    `json:"processes"`
	// Seccomp is the init's mode: disabled, strict or filter; Filters how
	// many filters it holds.
	Seccomp string `json:"seccomp"`
	Filters int    `json:"filters"`
	Class   Class  `json:"class"`
	// Decision is sysgate's; nil when sysgate never decided for it.
	Decision *Decision `json:"decision,omitempty"`
	Status   Status    `json:"status"`
	// Problem says why the status is not equal, in one line.
	Problem string `json:"problem,omitempty"`
	// Notes are things worth knowing that do not change the status.
	Notes []string `json:"notes,omitempty"`
	// Threads are the threads checked whose filters are not the decided
	// one or could not be read; Checked counts every thread checked.
	Threads []ThreadResult `json:"threads,omitempty"`
	Checked int            `json:"checked"`
	// Matched names the program the equal threads hold: sysgate's, or
	// the decided profile as the runtime compiled it.
	Matched string `json:"matched,omitempty"`
	Drift   *Drift `json:"drift,omitempty"`
}

// Decision is a decision sysgate recorded for the container.
type Decision struct {
	Source      string       `json:"source"`
	Type        profile.Type `json:"type"`
	Ref         string       `json:"ref,omitempty"`
	Digest      string       `json:"digest,omitempty"`
	ProfilePath string       `json:"profilePath,omitempty"`
	Audit       bool         `json:"audit,omitempty"`
	Handoff     bool         `json:"handoff,omitempty"`
	Via         string       `json:"via,omitempty"`
	Logged      string       `json:"logged,omitempty"`
	// Evidence is where the decision was read: the decision log, the
	// bundle's signed record, or both.
	Evidence string `json:"evidence"`
}

// ThreadResult is one thread whose filters are not the decided one, or
// could not be read.
type ThreadResult struct {
	TID        int         `json:"tid"`
	PID        int         `json:"pid"`
	Comparison *Comparison `json:"comparison,omitempty"`
	Error      string      `json:"error,omitempty"`
}

// Drift says whether the decision would differ if the container were
// created now.
type Drift struct {
	Changed bool `json:"changed"`
	// Now is today's decision (when Changed).
	Now *Decision `json:"now,omitempty"`
	// Reason says what changed, or why drift could not be worked out.
	Reason string `json:"reason,omitempty"`
	// Unknown: drift could not be worked out (Reason says why).
	Unknown bool `json:"unknown,omitempty"`
}

// Summary is ps's last line: "N containers: C confined by sysgate, O
// confined otherwise, U unconfined".
func Summary(reports []*Report) string {
	counts := map[Class]int{}
	for _, r := range reports {
		counts[r.Class]++
	}
	return fmt.Sprintf("%d containers: %d confined by sysgate, %d confined otherwise, %d unconfined",
		len(reports), counts[ClassSysgate], counts[ClassOther], counts[ClassUnconfined])
}

// Failed reports whether verify must exit non-zero: a container sysgate
// decided for whose filters differ or could not be verified. Containers
// sysgate never saw are listed but cannot fail a verification of
// sysgate's decisions (ps shows them).
func Failed(reports []*Report) bool {
	for _, r := range reports {
		if r.Status == StatusDiffers || r.Status == StatusUnverified {
			return true
		}
	}
	return false
}

func modeName(mode int) string {
	switch mode {
	case 0:
		return "disabled"
	case 1:
		return "strict"
	case 2:
		return "filter"
	}
	return "unknown"
}
