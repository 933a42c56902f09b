package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
