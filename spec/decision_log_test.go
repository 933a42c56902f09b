package spec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The decision log stays bounded: past decision_log_max_bytes it moves to
// .1 and a new file starts, each holding whole JSON lines.
func TestDecisionLogRotates(t *testing.T) {
	p := DefaultPolicy()
	p.DecisionLog = filepath.Join(t.TempDir(), "decisions.jsonl")
	p.DecisionLogMaxBytes = 4096
	for i := range 200 {
		LogDecision(p, Decision{Container: Container{ID: strings.Repeat("x", 40) + string(rune('a'+i%26))}, Source: "node default"}, "", func(msg string) { t.Fatal(msg) })
	}
	for _, path := range []string{p.DecisionLog, p.DecisionLog + ".1"} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(data)) > p.DecisionLogMaxBytes+512 {
			t.Errorf("%s holds %d bytes, over the bound %d", path, len(data), p.DecisionLogMaxBytes)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if !json.Valid([]byte(line)) {
				t.Errorf("%s: line %q is not whole", path, line)
			}
		}
	}
}
