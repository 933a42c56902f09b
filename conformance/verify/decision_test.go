package verify

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/conformance/node"
	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/bundle"
	"github.com/sysgate/sysgate/spec/profile"
)

// testNode is a policy with a decision log, a record key and a profile
// root, and bundles prepared by sysgate under it.
type testNode struct {
	t      *testing.T
	policy spec.Policy
}

func newTestNode(t *testing.T) *testNode {
	dir := t.TempDir()
	p := spec.DefaultPolicy()
	p.DecisionLog = filepath.Join(dir, "decisions.jsonl")
	p.CacheDir = filepath.Join(dir, "cache")
	p.ProfileRoot = filepath.Join(dir, "seccomp")
	if err := os.MkdirAll(filepath.Join(p.ProfileRoot, "profiles"), 0o755); err != nil {
		t.Fatal(err)
	}
	return &testNode{t: t, policy: p}
}

// prepare writes a bundle and has sysgate decide for it, as sysgate-runc's
// create does.
func (n *testNode) prepare(id string, annotations map[string]string) string {
	n.t.Helper()
	dir := n.t.TempDir()
	caps := profile.DefaultCapabilities
	s := specs.Spec{Version: "1.0.2", Root: &specs.Root{Path: "rootfs"}, Annotations: annotations,
		Process: &specs.Process{Args: []string{"sh"}, Cwd: "/", Capabilities: &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}},
		Linux:   &specs.Linux{MaskedPaths: []string{"/proc/kcore"}}}
	data, _ := json.Marshal(s)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		n.t.Fatal(err)
	}
	if _, _, err := spec.Prepare(nil, dir, id, n.policy, func(string) {}); err != nil {
		n.t.Fatal(err)
	}
	return dir
}

func (n *testNode) inventory() *inventory {
	inv := &inventory{policy: n.policy, key: n.policy.RecordKey()}
	if err := inv.readDecisionLog(nil, nil, nil); err != nil {
		n.t.Fatal(err)
	}
	// readDecisionLog keeps only ids it is told of; take them all.
	records, err := spec.ReadDecisionLog(n.policy.DecisionLog, func(string, []byte) bool { return true })
	if err != nil {
		n.t.Fatal(err)
	}
	for _, r := range records {
		inv.records[r.Container.ID] = append(inv.records[r.Container.ID], r)
	}
	return inv
}

func editConfig(t *testing.T, dir string, edit func(s *specs.Spec)) {
	t.Helper()
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	edit(&s)
	data, _ = json.Marshal(&s)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDecisionFor(t *testing.T) {
	n := newTestNode(t)
	now := time.Now()
	rd := profile.RuntimeDefault(profile.DefaultCapabilities)
	local := filepath.Join(n.policy.ProfileRoot, "profiles", "p.json")
	data, _ := json.Marshal(rd)
	if err := os.WriteFile(local, data, 0o644); err != nil {
		t.Fatal(err)
	}
	localhost := map[string]string{spec.AnnotationPodSeccomp: "localhost/profiles/p.json"}

	for _, tc := range []struct {
		name        string
		id          string
		annotations map[string]string
		setup       func(t *testing.T, dir string) // after sysgate's create
		noLog       bool                           // the decision log is gone
		bundle      bool                           // the container's bundle is known without the log
		started     time.Time
		decided     bool
		evidence    string
		err         string
		note        string
		profile     string // the digest decidedProfile must find, "" for an error
		profErr     string
	}{
		{name: "log and signed record agree", id: "a", started: now, decided: true, evidence: "decision log and signed bundle record", profile: spec.Digest(rd)},
		{name: "signed record alone", id: "b", noLog: true, bundle: true, started: now, decided: true, evidence: "signed bundle record", profile: spec.Digest(rd)},
		{name: "the decision log alone, bundle gone", id: "c", started: now, decided: true, evidence: "decision log", note: "is gone",
			setup: func(t *testing.T, dir string) { os.RemoveAll(dir) }, profile: spec.Digest(rd)},
		{name: "a record sysgate did not sign is no evidence", id: "d", noLog: true, bundle: true, started: now, note: "did not sign",
			setup: func(t *testing.T, dir string) {
				editConfig(t, dir, func(s *specs.Spec) {
					s.Annotations[bundle.AnnotationDecision] = `{"source":"pod annotation","type":"Localhost","digest":"sha256:00","mac":"` + strings.Repeat("ab", 32) + `"}`
				})
			}},
		{name: "log and bundle disagree", id: "e", started: now, err: "disagree",
			setup: func(t *testing.T, dir string) {
				editConfig(t, dir, func(s *specs.Spec) {
					var r bundle.Record
					json.Unmarshal([]byte(s.Annotations[bundle.AnnotationDecision]), &r)
					r.Digest = "sha256:00"
					signed, _ := json.Marshal(r.Signed(n.policy.RecordKey(), "e"))
					s.Annotations[bundle.AnnotationDecision] = string(signed)
				})
			}},
		{name: "decisions made after the container started were for another", id: "f", started: now.Add(-time.Hour), note: "made after this container started"},
		{name: "the bundle's profile edited: the decided one is rebuilt from its inputs", id: "g", started: now, decided: true, evidence: "decision log and signed bundle record",
			setup: func(t *testing.T, dir string) {
				editConfig(t, dir, func(s *specs.Spec) { s.Linux.Seccomp.DefaultAction = specs.ActAllow })
			}, profile: spec.Digest(rd)},
		{name: "a Localhost profile edited in the bundle and on disk cannot be found", id: "h", annotations: localhost, started: now, decided: true, evidence: "decision log and signed bundle record",
			setup: func(t *testing.T, dir string) {
				editConfig(t, dir, func(s *specs.Spec) { s.Linux.Seccomp.DefaultAction = specs.ActAllow })
				if err := os.WriteFile(local, []byte(`{"defaultAction":"SCMP_ACT_ALLOW"}`), 0o644); err != nil {
					t.Fatal(err)
				}
			}, profErr: "cannot be found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(local, data, 0o644); err != nil {
				t.Fatal(err)
			}
			dir := n.prepare(tc.id, tc.annotations)
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			inv := n.inventory()
			if tc.noLog {
				delete(inv.records, tc.id)
			}
			c := &node.Container{Layout: node.Layout{ID: tc.id}}
			if tc.bundle {
				c.Bundle = dir
			}
			f, err := inv.decisionFor(c, tc.started)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("decisionFor = %+v, %v; want an error with %q", f, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.decided != tc.decided || f.evidence != tc.evidence {
				t.Errorf("decided %v from %q, want %v from %q (notes %v)", f.decided, f.evidence, tc.decided, tc.evidence, f.notes)
			}
			if tc.note != "" && !strings.Contains(strings.Join(f.notes, "\n"), tc.note) {
				t.Errorf("notes %v lack %q", f.notes, tc.note)
			}
			if !f.decided {
				return
			}
			p, err := inv.decidedProfile(f, node.Task{CapBnd: capMask(profile.DefaultCapabilities)})
			switch {
			case tc.profErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.profErr) {
					t.Errorf("decidedProfile = %v, %v; want an error with %q", spec.Digest(p), err, tc.profErr)
				}
			case err != nil || spec.Digest(p) != tc.profile:
				t.Errorf("decidedProfile = %s, %v; want %s", spec.Digest(p), err, tc.profile)
			}
		})
	}
}

func capMask(names []string) uint64 {
	var mask uint64
	for bit, name := range profile.CapabilityNames {
		for _, n := range names {
			if n == name {
				mask |= 1 << bit
			}
		}
	}
	return mask
}

func nodeContainer(id string) *node.Container { return &node.Container{Layout: node.Layout{ID: id}} }

func nowish() time.Time { return time.Now() }

func taskWithCaps() node.Task { return node.Task{CapBnd: capMask(profile.DefaultCapabilities)} }

// A decision logged without a container id belongs to no container, least
// of all to one nothing named.
func TestDecisionForUnnamedContainer(t *testing.T) {
	n := newTestNode(t)
	n.prepare("", nil)
	inv := n.inventory()
	if len(inv.records[""]) == 0 {
		t.Fatal("the decision without an id was not logged")
	}
	f, err := inv.decisionFor(&node.Container{}, time.Now())
	if err != nil || f.decided {
		t.Errorf("an unnamed container took a decision: %+v, %v", f, err)
	}
}

func TestContainerdTaskID(t *testing.T) {
	for _, c := range []struct {
		bundle, id string
		ok         bool
	}{
		{"/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc123", "abc123", true},
		{"/tmp/sgcri-1/state/io.containerd.runtime.v2.task/default/x", "x", true},
		{"/run/containerd/io.containerd.runtime.v2.task/abc123", "", false}, // no namespace level
		{"/var/lib/bundles/k8s.io/abc123", "", false},
		{"/io.containerd.runtime.v2.task/ns", "", false},
	} {
		id, ok := containerdTaskID(c.bundle)
		if id != c.id || ok != c.ok {
			t.Errorf("%s: %q %v, want %q %v", c.bundle, id, ok, c.id, c.ok)
		}
	}
}
