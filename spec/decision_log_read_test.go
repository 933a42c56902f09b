package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadDecisionLog(t *testing.T) {
	dir := t.TempDir()
	p := DefaultPolicy()
	p.DecisionLog = filepath.Join(dir, "decisions.jsonl")
	fail := func(msg string) { t.Fatal(msg) }
	write := func(id, bundle string) {
		r := recordOf(Decision{Container: Container{ID: id, Namespace: "ns"}, Source: "node default", Digest: "sha256:" + id}, "")
		r.Bundle, r.Handoff = bundle, true
		writeDecisionLog(p, r, fail)
	}
	write("a", "/run/a")
	if err := os.Rename(p.DecisionLog, p.DecisionLog+".1"); err != nil {
		t.Fatal(err)
	}
	write("b", "/run/b")
	write("a", "/run/a2")
	// A torn last line, as after a crash mid-write.
	f, _ := os.OpenFile(p.DecisionLog, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"time":"2026-01-01T00:00:00Z","container":{"id":"a"},"sou`)
	f.Close()

	for _, tc := range []struct {
		name string
		keep func(id string, line []byte) bool
		want []string // bundles, oldest first
	}{
		{"by id, the rotated file first", func(id string, _ []byte) bool { return id == "a" }, []string{"/run/a", "/run/a2"}},
		{"by bundle", func(_ string, line []byte) bool { return strings.Contains(string(line), `"bundle":"/run/b"`) }, []string{"/run/b"}},
		{"nothing", func(string, []byte) bool { return false }, nil},
	} {
		records, err := ReadDecisionLog(p.DecisionLog, tc.keep)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for _, r := range records {
			got = append(got, r.Bundle)
			if !r.Handoff || r.Logged().IsZero() || r.Container.Namespace != "ns" {
				t.Errorf("%s: record %+v lost a field", tc.name, r)
			}
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: bundles %v, want %v", tc.name, got, tc.want)
		}
	}

	// A log others may write is not evidence.
	if err := os.Chmod(p.DecisionLog, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadDecisionLog(p.DecisionLog, func(string, []byte) bool { return true }); err == nil || !strings.Contains(err.Error(), "decision_log") {
		t.Errorf("a world-writable log was read: %v", err)
	}
}

func TestReadDecisionLogMissing(t *testing.T) {
	records, err := ReadDecisionLog(filepath.Join(t.TempDir(), "none.jsonl"), func(string, []byte) bool { return true })
	if err != nil || records != nil {
		t.Errorf("a missing log: %v, %v", records, err)
	}
}

func TestCommitLogsBundleAndHandoff(t *testing.T) {
	dir := t.TempDir()
	bundleDir := filepath.Join(dir, "bundle")
	if err := os.MkdirAll(bundleDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundleDir, "config.json"), []byte(`{"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/"},"root":{"path":"rootfs"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	p := DefaultPolicy()
	p.DecisionLog = filepath.Join(dir, "decisions.jsonl")
	p.CacheDir = ""
	p.Runtime, p.RuntimeKind = "/usr/bin/crun", "crun"
	if _, _, err := Prepare(nil, bundleDir, "c1", p, func(msg string) { t.Fatal(msg) }); err != nil {
		t.Fatal(err)
	}
	records, err := ReadDecisionLog(p.DecisionLog, func(id string, _ []byte) bool { return id == "c1" })
	if err != nil || len(records) != 1 {
		t.Fatalf("records %v, %v", records, err)
	}
	if r := records[0]; r.Bundle != bundleDir || !r.Handoff || r.Digest == "" {
		t.Errorf("record %+v: want bundle %s, handoff and a digest", r, bundleDir)
	}
}
