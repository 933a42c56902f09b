package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstallCommand: a dry run writes nothing; install shows the diff and
// records; a second install changes nothing; uninstall restores every byte
// and removes the record; a bad config stops every engine before any write.
func TestInstallCommand(t *testing.T) {
	dir := t.TempDir()
	ctd := filepath.Join(dir, "config.toml")
	dock := filepath.Join(dir, "daemon.json")
	record := filepath.Join(dir, "state", "install.json")
	ctdOrig := "version = 2\n# keep me\n[grpc]\n  address = \"/run/x.sock\"\n"
	dockOrig := "{\"debug\": true}\n"
	must(t, os.WriteFile(ctd, []byte(ctdOrig), 0o600))
	must(t, os.WriteFile(dock, []byte(dockOrig), 0o644))
	args := []string{"install", "--containerd", "--containerd-config", ctd, "--docker", "--docker-config", dock, "--record", record, "--runtime-path", "/opt/sg/sysgate-runc"}

	code, stdout, stderr := runCLI(append(args, "--dry-run")...)
	if code != 0 || !strings.Contains(stdout, "+    BinaryName = \"/opt/sg/sysgate-runc\"") || !strings.Contains(stdout, "dry run: nothing written") {
		t.Fatalf("dry run: exit %d\n%s%s", code, stdout, stderr)
	}
	if data, _ := os.ReadFile(ctd); string(data) != ctdOrig {
		t.Fatal("the dry run wrote")
	}
	if _, err := os.Stat(record); err == nil {
		t.Fatal("the dry run left a record")
	}

	code, stdout, stderr = runCLI(args...)
	if code != 0 || !strings.Contains(stdout, "--- "+ctd) || !strings.Contains(stdout, "restart to apply: systemctl restart containerd docker") {
		t.Fatalf("install: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(args...)
	if code != 0 || !strings.Contains(stdout, "already has handler") || strings.Contains(stdout, "restart to apply") {
		t.Fatalf("second install: exit %d\n%s", code, stdout)
	}

	code, stdout, stderr = runCLI("uninstall", "--record", record)
	if code != 0 || !strings.Contains(stdout, "-    BinaryName") {
		t.Fatalf("uninstall: exit %d\n%s%s", code, stdout, stderr)
	}
	for path, want := range map[string]string{ctd: ctdOrig, dock: dockOrig} {
		if data, _ := os.ReadFile(path); string(data) != want {
			t.Errorf("%s after uninstall: %q", path, data)
		}
	}
	if _, err := os.Stat(record); err == nil {
		t.Error("the record outlived the uninstall")
	}
	if st, _ := os.Stat(ctd); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}

	// containerd's config is broken: Docker's is not touched either.
	must(t, os.WriteFile(ctd, []byte("version = 2\n[grpc\n"), 0o600))
	code, _, stderr = runCLI(args...)
	if code != exitFailure || !strings.Contains(stderr, "nothing written") || !strings.Contains(stderr, ctd) || !strings.Contains(stderr, "not valid TOML") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if data, _ := os.ReadFile(dock); string(data) != dockOrig {
		t.Error("docker's config was written although containerd's plan failed")
	}
}

// A record others can write is refused: uninstall would edit, as root,
// whatever it names.
func TestUninstallRefusesUntrustedRecord(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the trust check accepts the running user's own files; as non-root a temp dir is always trusted")
	}
	dir := t.TempDir()
	record := filepath.Join(dir, "install.json")
	must(t, os.WriteFile(record, []byte(`{"version": 1, "changes": []}`), 0o666))
	must(t, os.Chmod(record, 0o666))
	code, _, stderr := runCLI("uninstall", "--record", record)
	if code != exitFailure || !strings.Contains(stderr, "install record") || !strings.Contains(stderr, "chmod go-w") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// --restart runs the restart command for each engine it changed.
func TestInstallRestart(t *testing.T) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	stub := filepath.Join(dir, "restart")
	must(t, os.WriteFile(stub, []byte("#!/bin/sh\necho \"$*\" >> "+calls+"\n"), 0o755))
	podman := filepath.Join(dir, "containers.conf")
	ctd := filepath.Join(dir, "config.toml")
	record := filepath.Join(dir, "install.json")
	args := []string{"install", "--containerd", "--containerd-config", ctd, "--podman", "--podman-config", podman, "--record", record, "--restart", "--restart-command", stub + " now", "--containerd-config-version", "3"}
	for i := 0; i < 2; i++ {
		if code, stdout, stderr := runCLI(args...); code != 0 {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
	}
	if data, _ := os.ReadFile(calls); string(data) != "now containerd\n" {
		t.Errorf("restarts over two installs: %q, want containerd once (podman has no daemon)", data)
	}
	data, _ := os.ReadFile(ctd)
	if !strings.HasPrefix(string(data), "version = 3") || !strings.Contains(string(data), "runtimes.sysgate-shim]") {
		t.Errorf("a new containerd config for 2.x:\n%s", data)
	}
	if code, stdout, stderr := runCLI("uninstall", "--record", record, "--restart", "--restart-command", stub+" now"); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, p := range []string{ctd, podman} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s, created by install, outlived uninstall", p)
		}
	}
	if data, _ := os.ReadFile(calls); string(data) != "now containerd\nnow containerd\n" {
		t.Errorf("restarts: %q", data)
	}
}
