package cri

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Docker as a client (issue 19): a private dockerd with sysgate-runc as the
// runtime "sysgate". Each way docker run asks for seccomp gets what the
// node policy says, seen in /proc/self/status, in a blocked call and in
// the decision log; a refusal reaches docker run's own output.
func TestDockerClient(t *testing.T) {
	requireCRI(t)
	bin := tools(t)
	dir, err := os.MkdirTemp("/tmp", "sgdkc-") // socket paths are short
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "daemon.json")
	writeFile(t, conf, fmt.Sprintf(`{"runtimes": {"sysgate": {"path": %q}}}`, filepath.Join(bin, "sysgate-runc")))
	policy := filepath.Join(dir, "sysgate.toml")
	decisions := filepath.Join(dir, "decisions.jsonl")
	writePolicy := func(extra string) {
		writeFile(t, policy, fmt.Sprintf("runtime = %q\nprofile_root = %q\ncache_dir = %q\ndecision_log = %q\n%s", "/usr/sbin/runc",
			filepath.Join(dir, "seccomp"), filepath.Join(dir, "cache"), decisions, extra))
	}
	writePolicy("")
	blockMkdir, err := filepath.Abs("../../docs/examples/block-mkdir.json")
	if err != nil {
		t.Fatal(err)
	}
	cli := startDockerd(t, dir, conf, policy)
	importBusybox(t, dir, cli)
	lastSource := func() string {
		data, _ := os.ReadFile(decisions)
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		var last struct{ Source string }
		json.Unmarshal([]byte(lines[len(lines)-1]), &last)
		return last.Source
	}
	// status prints the seccomp mode, then tries mkdir.
	script := "grep ^Seccomp: /proc/self/status; mkdir /tmp/d && echo mkdir-ok; exit 0"
	for _, tc := range []struct {
		name   string
		opts   []string
		mode   string // Seccomp: line
		mkdir  bool   // mkdir succeeds
		source string // the decision table's row
	}{
		{"Docker's default profile", nil, "Seccomp:\t2", true, "spec"},
		{"--security-opt seccomp=FILE", []string{"--security-opt", "seccomp=" + blockMkdir}, "Seccomp:\t2", false, "spec"},
		{"--security-opt seccomp=unconfined: the node default", []string{"--security-opt", "seccomp=unconfined"}, "Seccomp:\t2", true, "node default"},
		// --privileged: its own subtest below.
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"run", "--rm", "--runtime", "sysgate", "--network", "none"}, tc.opts...)
			out, err := cli(append(args, "sysgate.test/busybox-docker:1", "/bin/busybox", "sh", "-c", script)...)
			if err != nil {
				t.Fatalf("docker run: %v\n%s", err, out)
			}
			if !strings.Contains(out, tc.mode) || strings.Contains(out, "mkdir-ok") != tc.mkdir || lastSource() != tc.source {
				t.Errorf("got %q, decided by %q; want %s, mkdir allowed %v, decided by %q", out, lastSource(), tc.mode, tc.mkdir, tc.source)
			}
			if !tc.mkdir && !strings.Contains(out, "Operation not permitted") {
				t.Errorf("mkdir was not refused with EPERM: %q", out)
			}
		})
	}
	// --privileged cannot start here with or without sysgate: Docker 20.10
	// asks for every capability it knows, CAP_SYS_RESOURCE among them,
	// which this machine's bounding set lacks, so runc's capset fails.
	// What sysgate shows is its decision before runc's failure: Docker's
	// list misses the kernel's newest capabilities (perfmon, bpf,
	// checkpoint_restore), so the container is not privileged by
	// sysgate's rule (the whole bounding set sysgate-runc holds) and gets
	// the node default, never less; and runc's own error reaches docker
	// run unchanged.
	t.Run("--privileged", func(t *testing.T) {
		run := func(runtime string) (string, error) {
			return cli("run", "--rm", "--runtime", runtime, "--privileged", "--network", "none", "sysgate.test/busybox-docker:1",
				"/bin/busybox", "grep", "^Seccomp:", "/proc/self/status")
		}
		before, _ := os.ReadFile(decisions)
		plain, plainErr := run("runc")
		through, err := run("sysgate")
		after, _ := os.ReadFile(decisions)
		if len(after) == len(before) {
			t.Fatalf("sysgate recorded no decision for docker run --privileged:\n%s", through)
		}
		switch source := lastSource(); {
		case plainErr != nil:
			// This machine: runc's capset fails with or without sysgate.
			if !strings.Contains(plain, "operation not permitted") {
				t.Fatalf("plain runc's failure is not the capset one this test knows:\n%s", plain)
			}
			if err == nil || !strings.Contains(through, "operation not permitted") || strings.Contains(through, "sysgate: refusing") {
				t.Errorf("docker run --privileged through sysgate does not fail with runc's own error:\n%s", through)
			}
			if source != "node default" {
				t.Errorf("sysgate decided by %q; want the node default", source)
			}
		case err != nil:
			t.Errorf("--privileged starts under plain runc but not through sysgate:\n%s", through)
		case source == "privileged policy" && !strings.Contains(through, "Seccomp:\t0"),
			source == "node default" && !strings.Contains(through, "Seccomp:\t2"),
			source != "privileged policy" && source != "node default":
			t.Errorf("decided by %q, and the container shows %q", source, through)
		}
	})
	t.Run("a refusal reaches docker run", func(t *testing.T) {
		writePolicy("unconfined = \"deny\"\n")
		defer writePolicy("")
		allowAll := filepath.Join(dir, "allow-all.json")
		writeFile(t, allowAll, `{"defaultAction": "SCMP_ACT_ALLOW"}`)
		out, err := cli("run", "--rm", "--runtime", "sysgate", "--network", "none", "--security-opt", "seccomp="+allowAll, "sysgate.test/busybox-docker:1", "/bin/busybox", "true")
		if err == nil || !strings.Contains(out, "sysgate: refusing to create") || !strings.Contains(out, `unconfined = \"deny\"`) && !strings.Contains(out, `unconfined = "deny"`) {
			t.Errorf("docker run of a refused container: %v\n%s", err, out)
		}
	})
}
