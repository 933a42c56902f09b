package shim

import (
	"encoding/json"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/sysgate/sysgate/spec"
)

// Prepare decides a container's profile and rewrites its bundle. Nothing
// is written until every check has passed, so on error config.json is what
// the caller gave. warn receives what must be said but does not stop the
// container. The containerd shim calls this before it creates the task.
func Prepare(bundleDir, id string, policy spec.Policy, warn func(string)) (spec.Decision, error) {
	d, _, err := prepareAt(nil, bundleDir, id, policy, warn)
	return d, err
}

// prepareAt is Prepare with the bundle resolved relative to the directory
// at (nil: the working directory); it also returns the bundle's real path.
func prepareAt(at *os.File, bundleDir, id string, policy spec.Policy, warn func(string)) (spec.Decision, string, error) {
	p, err := plan(at, bundleDir, id, policy)
	defer p.close()
	if err != nil {
		return p.decision, "", err
	}
	if p.warning != "" {
		warn(p.warning)
	}
	return p.decision, p.bundle.Dir, p.commit(policy, "", warn)
}

// preparation is a container's decision and its rendered config.json,
// checked but not yet written. The helper needs the two steps apart: it
// hands every container with something to say back to sysgate-runc before
// anything is written, so that the warning reaches the caller.
type preparation struct {
	decision spec.Decision
	warning  string
	bundle   *spec.Bundle
	config   []byte // nil when the bundle already says it all
}

// plan does every check of Prepare and writes nothing. The bundle is
// resolved once, relative to at, into a descriptor that commit writes
// through; close releases it.
func plan(at *os.File, bundleDir, id string, policy spec.Policy) (*preparation, error) {
	p := &preparation{}
	bundle, err := spec.OpenBundle(at, bundleDir)
	if err != nil {
		return p, err
	}
	p.bundle = bundle
	bundle.RecordKey = policy.RecordKey()
	p.decision, err = spec.Decide(id, bundle.Spec, policy)
	if err != nil {
		return p, fmt.Errorf("container %s: %w", id, err)
	}
	if p.warning, err = spec.CheckDecision(p.decision, policy); err != nil {
		return p, err
	}
	prog, err := p.decision.Verify(policy.Cache())
	if err != nil {
		return p, fmt.Errorf("container %s: %w", id, err)
	}
	var bpf []byte
	if prog != nil && policy.HandsOverBPF() {
		bpf = prog.Bytes()
	}
	out, changed, err := bundle.Rendered(p.decision, bpf)
	if err != nil {
		return p, err
	}
	if changed {
		p.config = out
	}
	return p, nil
}

func (p *preparation) close() { p.bundle.Close() }

// commit writes the bundle and records the decision; via says who did it
// when it was not sysgate-runc itself.
func (p *preparation) commit(policy spec.Policy, via string, warn func(string)) error {
	if p.config != nil {
		if err := p.bundle.WriteConfig(p.config); err != nil {
			return err
		}
	}
	logDecision(policy, p.decision, via, warn)
	return nil
}

// decisionRecord is one line of the policy's decision_log.
type decisionRecord struct {
	Time      string           `json:"time"`
	Container spec.Container   `json:"container"`
	Source    string           `json:"source"`
	Type      spec.ProfileType `json:"type"`
	Ref       string           `json:"ref,omitempty"`
	From      string           `json:"from,omitempty"`
	Path      string           `json:"profilePath,omitempty"`
	Digest    string           `json:"digest,omitempty"`
	Audit     bool             `json:"audit,omitempty"`
	Via       string           `json:"via,omitempty"`
}

// logDecision appends to the decision log, never through a symlink: it is
// written as root, wherever the link would point. A log that cannot be written is
// a warning, not a refusal: the container already has its filter, and a
// full disk must not stop every Pod on the node.
func logDecision(policy spec.Policy, d spec.Decision, via string, warn func(string)) {
	if policy.DecisionLog == "" {
		return
	}
	line, _ := json.Marshal(decisionRecord{
		Time: time.Now().UTC().Format(time.RFC3339Nano), Container: d.Container, Source: d.Source,
		Type: d.Type, Ref: d.Ref, From: d.From, Path: d.ProfilePath, Digest: d.Digest, Audit: d.Audit, Via: via,
	})
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
