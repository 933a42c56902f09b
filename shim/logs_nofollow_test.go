package shim

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysgate/sysgate/spec"
)

// sysgate writes its logs as root: a symlink planted where a log goes must
// not make it append to the file the link names (issue 13, item 11).
func TestLogsDoNotFollowSymlinks(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "shadow")
	os.WriteFile(victim, []byte("root:x:0:0\n"), 0o600)
	link := filepath.Join(dir, "log")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}

	var stderr bytes.Buffer
	report(Invocation{Log: link, LogFormat: "json"}, &stderr, slog.LevelError, "refused")
	if !strings.Contains(stderr.String(), "cannot write to --log "+link) {
		t.Errorf("stderr: %q", stderr.String())
	}

	var warned string
	p := spec.DefaultPolicy()
	p.DecisionLog = link
	spec.LogDecision(p, spec.Decision{Source: "node default"}, "", func(msg string) { warned = msg })
	if !strings.Contains(warned, "decision_log "+link) {
		t.Errorf("warning: %q", warned)
	}
	if got, _ := os.ReadFile(victim); string(got) != "root:x:0:0\n" {
		t.Errorf("the file behind the link was written: %q", got)
	}
}
