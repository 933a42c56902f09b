package spec

import (
	"encoding/json"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/sysgate/sysgate/spec/profile"
)

// DecisionRecord is one line of the policy's decision_log; the denial
// collector reads it back to attribute denials.
type DecisionRecord struct {
	Time      string       `json:"time"`
	Container Container    `json:"container"`
	Source    string       `json:"source"`
	Type      profile.Type `json:"type"`
	Ref       string       `json:"ref,omitempty"`
	From      string       `json:"from,omitempty"`
	Path      string       `json:"profilePath,omitempty"`
	Digest    string       `json:"digest,omitempty"`
	Audit     bool         `json:"audit,omitempty"`
	Via       string       `json:"via,omitempty"`
	// Bundle is the bundle's real path, where `sysgate verify` finds the
	// decided profile and the signed record again.
	Bundle string `json:"bundle,omitempty"`
	// Handoff: crun was handed sysgate's compiled program
	// (run.oci.seccomp_bpf_data) instead of compiling the profile itself.
	Handoff     bool   `json:"handoff,omitempty"`
	LogDenials  bool   `json:"logDenials,omitempty"`
	DenialsNote string `json:"denialsNote,omitempty"`
}

// LogDecision appends to the decision log, never through a symlink: it is
// written as root, wherever the link would point. A log that cannot be written is
// a warning, not a refusal: the container already has its filter, and a
// full disk must not stop every Pod on the node.
func LogDecision(policy Policy, d Decision, via string, warn func(string)) {
	writeDecisionLog(policy, recordOf(d, via), warn)
}

func recordOf(d Decision, via string) DecisionRecord {
	return DecisionRecord{
		Time: time.Now().UTC().Format(time.RFC3339Nano), Container: d.Container, Source: d.Source,
		Type: d.Type, Ref: d.Ref, From: d.From, Path: d.ProfilePath, Digest: d.Digest, Audit: d.Audit, Via: via,
		LogDenials: d.LogDenials, DenialsNote: d.DenialsNote,
	}
}

func writeDecisionLog(policy Policy, record DecisionRecord, warn func(string)) {
	if policy.DecisionLog == "" {
		return
	}
	line, _ := json.Marshal(record)
	f, err := os.OpenFile(policy.DecisionLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o640)
	if err == nil {
		// One write per line, under PIPE_BUF-sized lines' atomic append:
		// concurrent creates never interleave.
		_, err = f.Write(append(line, '\n'))
		var size int64
		if st, statErr := f.Stat(); statErr == nil {
			size = st.Size()
		}
		if closeErr := f.Close(); err == nil {
			err = closeErr
		}
		if err == nil && size > policy.DecisionLogMaxBytes {
			// Concurrent creates may both rotate: the second renames a
			// nearly empty file over the first's .1, losing at most a few
			// lines of history, never a write in progress (O_APPEND on the
			// open file, whatever its name now).
			err = os.Rename(policy.DecisionLog, policy.DecisionLog+".1")
		}
	}
	if err != nil {
		warn(fmt.Sprintf("decision_log %s: %v", policy.DecisionLog, err))
	}
}
