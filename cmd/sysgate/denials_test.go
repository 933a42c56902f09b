package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sysgate/sysgate/shim/denials"
)

// denialPolicy writes a policy naming a denial log with the given lines,
// and a runtime that takes flags (a crun stand-in), so no runtime note.
func denialPolicy(t *testing.T, lines ...denials.Denial) string {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "denials.jsonl")
	var data []byte
	for _, d := range lines {
		b, _ := json.Marshal(d)
		data = append(append(data, b...), '\n')
	}
	data = append(data, "garbage\n"...)
	os.WriteFile(logPath, data, 0o644)
	crun := filepath.Join(dir, "crun")
	os.WriteFile(crun, []byte("#!/bin/sh\necho crun version 1.8.1\n"), 0o755)
	policy := filepath.Join(dir, "config.toml")
	os.WriteFile(policy, []byte("runtime = \""+crun+"\"\ndenial_log = \""+logPath+"\"\ncache_dir = \"\"\nprofile_root = \""+dir+"\"\n"), 0o644)
	return policy
}

func TestDenialsCommand(t *testing.T) {
	now := time.Now().UTC()
	base := denials.Denial{Kind: "denial", Container: strings.Repeat("a", 64), Namespace: "team-a", Pod: "web-0", Name: "app",
		Syscall: "mkdir", ABI: "x86_64", Action: "SCMP_ACT_ERRNO(1)", Rule: "rule 0 (mkdir SCMP_ACT_ERRNO)", Count: 3, FirstSeen: now, LastSeen: now}
	old := base
	old.Syscall, old.Count, old.LastSeen, old.FirstSeen = "unshare", 2, now.Add(-time.Hour), now.Add(-time.Hour)
	host := denials.Denial{Kind: "denial", Pid: 4242, Comm: "bash", Unattributed: "not in a container sysgate decided (cgroup /user.slice)", Syscall: "mkdir", ABI: "i386", ABIBypass: true, Action: "SCMP_ACT_KILL_PROCESS", Count: 1, FirstSeen: now, LastSeen: now}
	updated := base
	updated.Count = 5
	lost := denials.Denial{Kind: "lost", Lost: &denials.Lost{Gaps: 7, Dropped: 2}}
	policy := denialPolicy(t, base, old, host, updated, lost)

	code, out, errOut := runCLI("denials", "--config", policy)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"team-a", "web-0", "app", "mkdir", "unshare", "ERRNO(1)", "5", "(pid 4242 bash: unattributed)", "i386 (ABI bypass attempt)", "9 records lost", "1 line(s) of the denial log are not denial records", "note: pid 4242: not in a container"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, " 3 ") {
		t.Errorf("a superseded count is shown:\n%s", out)
	}
	_, out, _ = runCLI("denials", "--config", policy, "--since", "10m", "--output", "json")
	if strings.Contains(out, "unshare") || !strings.Contains(out, `"recordsLost":9`) {
		t.Errorf("--since 10m --output json:\n%s", out)
	}
	_, out, _ = runCLI("denials", "--config", policy, "--pid", "4242", "--output", "json")
	if n := strings.Count(out, `"kind":"denial"`); n != 1 || !strings.Contains(out, `"pid":4242`) {
		t.Errorf("--pid 4242 gave %d lines:\n%s", n, out)
	}
	_, out, _ = runCLI("denials", "--config", policy, "--namespace", "other")
	if strings.Contains(out, "web-0") {
		t.Errorf("--namespace other shows team-a:\n%s", out)
	}
	if code, _, _ := runCLI("denials", "--config", policy, "--output", "yaml"); code != 2 {
		t.Errorf("--output yaml exits %d, want 2", code)
	}
	// No log: say where it was looked for and what makes one.
	noLog := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(noLog, []byte("denial_log = \"/nonexistent/denials.jsonl\"\nruntime = \"/usr/sbin/runc\"\ncache_dir = \"\"\n"), 0o644)
	if code, _, errOut := runCLI("denials", "--config", noLog); code != 1 || !strings.Contains(errOut, "denials = true") {
		t.Errorf("a missing log: exit %d, %q", code, errOut)
	}
}
