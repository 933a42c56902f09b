package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sysgate/sysgate/integration/helperproc"
)

// TestHelperCommand: a broken policy stops the helper before it listens;
// a good one serves until SIGTERM, then removes its socket.
func TestHelperCommand(t *testing.T) {
	t.Run("broken policy", func(t *testing.T) {
		policy := writeFile(t, "config.toml", "unconfined = \"maybe\"\n")
		socket := filepath.Join(t.TempDir(), "helper.sock")
		code, _, stderr := runCLI("helper", "--config", policy, "--socket", socket)
		if code != exitFailure || !strings.Contains(stderr, policy) || !strings.Contains(stderr, "unconfined") {
			t.Errorf("exit %d, stderr %q: want 1 naming the file and the key", code, stderr)
		}
		if _, err := os.Stat(socket); err == nil {
			t.Error("a socket was made for a broken policy")
		}
	})
	t.Run("serves until SIGTERM", func(t *testing.T) {
		bin := filepath.Join(t.TempDir(), "sysgate")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		policy := writeFile(t, "config.toml", "runtime = \"/bin/true\"\n")
		socket := filepath.Join(t.TempDir(), "run", "helper.sock")
		h, err := helperproc.Start(bin, policy, socket)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Stop(); err != nil {
			t.Errorf("after SIGTERM: %v", err)
		}
		if _, err := os.Stat(socket); err == nil {
			t.Error("the socket outlived the helper")
		}
		if log := h.Log(); !strings.Contains(log, "serving sysgate-runc") || !strings.Contains(log, "stopped") {
			t.Errorf("log:\n%s", log)
		}
	})
}

// TestLeanHelper: `sysgate helper` runs the lean sysgate-helper beside it
// for a policy that asks for creates only, serves in itself when the
// policy asks for denials, metrics or recordings (or the lean binary is
// not root's alone), and each restarts itself, for the service manager to
// start the right one, when an edit of the policy changes that.
func TestLeanHelper(t *testing.T) {
	bin := t.TempDir()
	for _, cmd := range []string{".", "../sysgate-helper"} {
		if out, err := exec.Command("go", "build", "-o", bin+"/", cmd).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", cmd, err, out)
		}
	}
	createsOnly := "runtime = \"/bin/true\"\n"
	withMetrics := createsOnly + "metrics_listen = \"127.0.0.1:0\"\n"
	exe := func(h *helperproc.Process) string {
		target, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", h.Pid()))
		if err != nil {
			t.Fatal(err)
		}
		return filepath.Base(target)
	}
	// restartsOn edits the policy, asks for a create, and wants the
	// create handed back and the helper gone with a reason naming want.
	restartsOn := func(t *testing.T, h *helperproc.Process, policy, content, want string) {
		if err := os.WriteFile(policy, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		kind, detail, err := h.Create(policy, filepath.Join(t.TempDir(), "no-bundle"), "c1")
		if err != nil || kind != "fallback" || !strings.Contains(detail, want) {
			t.Errorf("create after the edit: %q %q %v; want fallback naming %s", kind, detail, err, want)
		}
		select {
		case <-h.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("the helper kept running after its policy changed its services")
		}
		if err := h.Stop(); err == nil || !strings.Contains(err.Error(), "restarts") {
			t.Errorf("exit: %v; want a failure saying it restarts", err)
		}
	}
	// Each policy starts the binary that serves it; an edit to the other
	// policy makes it exit for a restart.
	for _, c := range []struct {
		name, policy, binary, edit string
	}{
		{"creates only: the lean binary serves", createsOnly, "sysgate-helper", withMetrics},
		{"metrics: sysgate serves (the lean one has none)", withMetrics, "sysgate", createsOnly},
	} {
		t.Run(c.name, func(t *testing.T) {
			policy := writeFile(t, "config.toml", c.policy)
			h, err := helperproc.Start(filepath.Join(bin, "sysgate"), policy, filepath.Join(t.TempDir(), "helper.sock"))
			if err != nil {
				t.Fatal(err)
			}
			if got := exe(h); got != c.binary {
				t.Errorf("serving binary %s, want %s", got, c.binary)
			}
			restartsOn(t, h, policy, c.edit, "metrics_listen")
		})
	}
	t.Run("a lean binary others may write is not run", func(t *testing.T) {
		untrusted := t.TempDir()
		for _, b := range []string{"sysgate", "sysgate-helper"} {
			data, err := os.ReadFile(filepath.Join(bin, b))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(untrusted, b), data, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(filepath.Join(untrusted, "sysgate-helper"), 0o777); err != nil {
			t.Fatal(err)
		}
		policy := writeFile(t, "config.toml", createsOnly)
		h, err := helperproc.Start(filepath.Join(untrusted, "sysgate"), policy, filepath.Join(t.TempDir(), "helper.sock"))
		if err != nil {
			t.Fatal(err)
		}
		defer h.Stop()
		if got := exe(h); got != "sysgate" {
			t.Errorf("serving binary %s, want sysgate: the lean one is world-writable", got)
		}
		if !strings.Contains(h.Log(), "writable") {
			t.Errorf("no warning naming why the lean binary was not run:\n%s", h.Log())
		}
	})
	t.Run("sysgate-helper refuses a policy with services", func(t *testing.T) {
		policy := writeFile(t, "config.toml", withMetrics)
		out, err := exec.Command(filepath.Join(bin, "sysgate-helper"), "--config", policy, "--socket", filepath.Join(t.TempDir(), "h.sock")).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "metrics_listen") || !strings.Contains(string(out), "sysgate helper") {
			t.Errorf("%v: %s; want a refusal naming metrics_listen and `sysgate helper`", err, out)
		}
	})
}
