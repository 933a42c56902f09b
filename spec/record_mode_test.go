package spec

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/spec/refusal"
)

func TestRecordMode(t *testing.T) {
	policy := DefaultPolicy()
	policy.RecordNamespaces = []string{"learn"}
	policy.RecordDir = "/var/lib/sysgate"
	for _, c := range []struct {
		name     string
		opts     []specOption
		wantPath string
		refusal  refusal.Reason
		wantErr  string
	}{
		{"no annotation", []specOption{containerd("learn", "web", "app")}, "", "", ""},
		{"listed namespace", []specOption{containerd("learn", "web", "app"), annotate(AnnotationRecord, "v1")}, "/var/lib/sysgate/recordings/learn/web/app.json", "", ""},
		{"sandbox", []specOption{containerdSandbox("learn", "web"), annotate(AnnotationRecord, "v1")}, "", "", ""},
		{"unlisted namespace", []specOption{containerd("prod", "web", "app"), annotate(AnnotationRecord, "v1")}, "", refusal.Policy, "record_namespaces"},
		{"no Pod identity", []specOption{annotate(AnnotationRecord, "v1")}, "", refusal.Policy, "record_namespaces"},
		{"bad name", []specOption{containerd("learn", "web", "app"), annotate(AnnotationRecord, "../x")}, "", refusal.BadInput, "not a recording name"},
		{"pod name escapes", []specOption{containerd("learn", "..", "app"), annotate(AnnotationRecord, "v1")}, "", refusal.EscapingPath, "cannot name a file"},
		{"container name escapes", []specOption{containerd("learn", "web", "a/b"), annotate(AnnotationRecord, "v1")}, "", refusal.EscapingPath, "cannot name a file"},
		{"unconfined", []specOption{containerd("learn", "web", "app"), annotate(AnnotationRecord, "v1", keyContainer+"app", "unconfined")}, "", refusal.Policy, "unconfined"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := Decide("id", newSpec(c.opts...), policy)
			if c.wantErr != "" {
				reason, ok := refusal.Of(err)
				if err == nil || !ok || reason != c.refusal || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v (refusal %q), want a %s refusal with %q", err, reason, c.refusal, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.wantPath == "" {
				if d.Record != nil {
					t.Errorf("recorded: %+v", d.Record)
				}
				return
			}
			if d.Record == nil || d.Record.Path != c.wantPath || d.Record.Name != "v1" {
				t.Fatalf("record %+v, want %s", d.Record, c.wantPath)
			}
			if d.Profile.DefaultAction != specs.ActLog {
				t.Errorf("record mode runs %s by default, want LOG", d.Profile.DefaultAction)
			}
			for _, r := range d.Profile.Syscalls {
				if r.Action != specs.ActAllow {
					t.Errorf("rule %v keeps %s", r.Names, r.Action)
				}
			}
			if w, err := CheckDecision(d, Policy{Unconfined: UnconfinedDeny}); err != nil || w != "" {
				t.Errorf("unconfined = deny refuses record mode: %q %v", w, err)
			}
		})
	}
}
