package spec

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/spec/refusal"
)

// A Pod author sets the audit annotation to turn their own filter into LOG.
// Outside audit_opt_in_namespaces the create is refused, whatever else the
// Pod claims (a Pod annotation copying the engine's namespace key is
// refused by DescribeContainer already); inside, it is honoured.
func TestAuditAnnotationHonouredOnlyWhereThePolicyOptsIn(t *testing.T) {
	p := DefaultPolicy()
	p.AuditOptInNamespaces = []string{"learning"}
	p.AuditNamespaces = []string{"staging"}
	for _, tc := range []struct {
		name, namespace, value string
		wantAudit              bool
		refused                refusal.Reason
	}{
		{"the attack: annotation in a namespace that did not opt in", "prod", "true", false, refusal.Policy},
		{"annotation in an audit namespace that did not opt in", "staging", "true", false, refusal.Policy},
		{"opted-in namespace", "learning", "true", true, ""},
		{"explicit false", "prod", "false", false, ""},
		{"a value that is neither", "learning", "yes", false, refusal.BadInput},
		{"no annotation, audit namespace", "staging", "", true, ""},
		{"no annotation, plain namespace", "prod", "", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []specOption{containerd(tc.namespace, "p", "app")}
			if tc.value != "" {
				opts = append(opts, annotate(AnnotationAudit, tc.value))
			}
			d, err := Decide("c1", newSpec(opts...), p)
			if tc.refused != "" {
				if reason, ok := refusal.Of(err); !ok || reason != tc.refused {
					t.Fatalf("want a %s refusal, got %v", tc.refused, err)
				}
				if !strings.Contains(err.Error(), AnnotationAudit) {
					t.Errorf("the refusal does not name the annotation: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Audit != tc.wantAudit {
				t.Fatalf("audit = %v, want %v", d.Audit, tc.wantAudit)
			}
			if tc.wantAudit && d.Profile.DefaultAction != specs.ActLog {
				t.Errorf("audit mode left defaultAction %s", d.Profile.DefaultAction)
			}
			if !tc.wantAudit && d.Profile.DefaultAction == specs.ActLog {
				t.Errorf("the filter was weakened to LOG without audit")
			}
		})
	}
}

// fakeRuntime writes an executable script answering --version and features.
func fakeRuntime(t *testing.T, name, version, features string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	script := "#!/bin/sh\ncase \"$1\" in\n--version) printf '%s\\n' '" + version + "';;\nfeatures) printf '%s\\n' '" + features + "';;\n*) exit 1;;\nesac\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// log_denials adds SECCOMP_FILTER_FLAG_LOG where the runtime passes flags
// on, and never where it refuses them (runc 1.1 fails the create on any
// flag).
func TestLogDenialsFlagFollowsTheRuntime(t *testing.T) {
	features12 := `{"linux":{"seccomp":{"supportedFlags":["SECCOMP_FILTER_FLAG_TSYNC","SECCOMP_FILTER_FLAG_SPEC_ALLOW","SECCOMP_FILTER_FLAG_LOG"]}}}`
	for _, tc := range []struct {
		name, runtime, kind string
		want                bool
		note                string
	}{
		{"runc 1.1", fakeRuntime(t, "runc", "runc version 1.1.5+ds1", `{"ociVersionMin":"1.0.0"}`), "", false, NoFlagsNote},
		{"runc 1.2", fakeRuntime(t, "runc", "runc version 1.2.6", features12), "", true, ""},
		{"runc 1.10 is not 1.1", fakeRuntime(t, "runc", "runc version 1.10.0", features12), "", true, ""},
		{"a runc without the flag in features", fakeRuntime(t, "runc", "runc version 1.3.0", `{"linux":{"seccomp":{"supportedFlags":[]}}}`), "", false, "does not list"},
		{"crun", fakeRuntime(t, "crun", "crun version 1.8.1", ""), "", true, ""},
		{"a runtime that cannot say", fakeRuntime(t, "other", "", "not json"), "runc", false, "features"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultPolicy()
			p.Runtime, p.RuntimeKind = tc.runtime, tc.kind
			d, err := Decide("c1", newSpec(containerd("default", "p", "app")), p)
			if err != nil {
				t.Fatal(err)
			}
			has := slices.Contains(d.Profile.Flags, specs.LinuxSeccompFlagLog)
			if has != tc.want || d.LogDenials != tc.want {
				t.Fatalf("flag in profile %v, LogDenials %v, want %v (flags %v)", has, d.LogDenials, tc.want, d.Profile.Flags)
			}
			if tc.want && !slices.Contains(d.Profile.Flags, specs.LinuxSeccompFlagSpecAllow) {
				t.Errorf("adding LOG lost the implicit SPEC_ALLOW: %v", d.Profile.Flags)
			}
			if !strings.Contains(d.DenialsNote, tc.note) {
				t.Errorf("note %q does not say %q", d.DenialsNote, tc.note)
			}
			p.LogDenials = false
			d, _ = Decide("c1", newSpec(containerd("default", "p", "app")), p)
			if slices.Contains(d.Profile.Flags, specs.LinuxSeccompFlagLog) {
				t.Errorf("log_denials = false still added the flag")
			}
		})
	}
}
