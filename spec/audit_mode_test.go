package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
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

// sysgate-runc runs once per create: the runtime's answer about flags is
// kept in the cache directory, so runc is asked once per binary, not once
// per container.
func TestRuntimeFlagAnswerIsKept(t *testing.T) {
	dir := t.TempDir()
	runc := fakeRuntime(t, "runc", "runc version 1.2.6", `{"linux":{"seccomp":{"supportedFlags":["SECCOMP_FILTER_FLAG_LOG"]}}}`)
	p := DefaultPolicy()
	p.Runtime, p.CacheDir = runc, filepath.Join(dir, "cache")
	if ok, _ := p.RuntimeTakesLogFlag(); !ok {
		t.Fatal("runc 1.2 does not take the flag")
	}
	runtimeFlags.Lock()
	runtimeFlags.byStamp = nil // a new process: only the file remembers
	runtimeFlags.Unlock()
	// The binary now fails when asked; the kept answer stands (same
	// binary: same size, mtime and inode).
	st, _ := os.Stat(runc)
	if err := os.Chmod(runc, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(runc, st.ModTime(), st.ModTime())
	if ok, why := p.RuntimeTakesLogFlag(); !ok {
		t.Errorf("the kept answer was not used: %s", why)
	}
	// A memo under another name (another runtime's) is not taken.
	entries, _ := os.ReadDir(p.CacheDir)
	if len(entries) != 1 {
		t.Fatalf("cache holds %d entries", len(entries))
	}
	runtimeFlags.Lock()
	runtimeFlags.byStamp = nil
	runtimeFlags.Unlock()
	other := p
	other.Runtime = fakeRuntime(t, "runc", "runc version 1.1.5", "{}")
	data, _ := os.ReadFile(filepath.Join(p.CacheDir, entries[0].Name()))
	st2, _ := os.Stat(other.Runtime)
	stamp := fmt.Sprintf("%s\x00%d\x00%d", other.Runtime, st2.ModTime().UnixNano(), st2.Size())
	if sys, ok := st2.Sys().(*syscall.Stat_t); ok {
		stamp += fmt.Sprintf("\x00%d:%d", sys.Dev, sys.Ino)
	}
	os.WriteFile(other.flagsMemoPath(stamp), data, 0o600)
	if ok, _ := other.RuntimeTakesLogFlag(); ok {
		t.Error("runc 1.1 took runc 1.2's kept answer")
	}
}

// One policy runtime can stand for crun and for runc: the NRI plugin
// plans nri_crun_handlers as crun (the program handed over) and every
// other handler as the policy's runc. The answer for one must not become
// the other's, in this process or in the kept file: runc 1.1 refuses any
// flag, so a crun answer kept for its binary would fail every create.
func TestRuntimeFlagAnswerIsPerKind(t *testing.T) {
	runc := fakeRuntime(t, "runc", "runc version 1.1.5", "{}")
	for _, order := range [][]string{{"crun", "runc"}, {"runc", "crun"}} {
		t.Run(strings.Join(order, " then "), func(t *testing.T) {
			runtimeFlags.Lock()
			runtimeFlags.byStamp = nil
			runtimeFlags.Unlock()
			p := DefaultPolicy()
			p.Runtime, p.CacheDir = runc, filepath.Join(t.TempDir(), "cache")
			for _, kind := range order {
				p.RuntimeKind = kind
				ok, why := p.RuntimeTakesLogFlag()
				if want := kind == "crun"; ok != want {
					t.Errorf("runtime_kind %s: takes the flag %v (%s), want %v", kind, ok, why, want)
				}
			}
		})
	}
}
