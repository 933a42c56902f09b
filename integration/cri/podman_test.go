package cri

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sysgate/sysgate/integration/nodekit"
	"github.com/sysgate/sysgate/spec"
)

// podmanNode is podman with everything private: storage, run root, tmp dir
// and events file under one temp dir, cgroupfs (there is no systemd here),
// no network, and sysgate-runc as the runtime.
type podmanNode struct {
	dir, policyPath, profileRoot, decisionLog string
	wrapper                                   string
}

func newPodman(t *testing.T) *podmanNode {
	requireCRI(t)
	if _, err := exec.LookPath("podman"); err != nil {
		t.Fatal("podman is not installed (make test-cri installs it)")
	}
	bin := tools(t)
	images := buildImages(t)
	// podman refuses a run root longer than 50 characters, which a
	// subtest's TempDir can be.
	dir, err := os.MkdirTemp("/tmp", "sgpod-")
	if err != nil {
		t.Fatal(err)
	}
	n := &podmanNode{dir: dir, policyPath: filepath.Join(dir, "sysgate.toml"), profileRoot: filepath.Join(dir, "seccomp"),
		decisionLog: filepath.Join(dir, "decisions.jsonl"), wrapper: filepath.Join(dir, "sysgate-runc")}
	// podman gives conmon, and so the runtime, a fixed environment without
	// SYSGATE_CONFIG: a podman node keeps its policy at the default path
	// /etc/sysgate/config.toml. The test must not touch /etc, so its
	// runtime is a two-line script that names the test policy.
	writeFile(t, n.wrapper, fmt.Sprintf("#!/bin/sh\nSYSGATE_CONFIG=%s exec %s \"$@\"\n", n.policyPath, filepath.Join(bin, "sysgate-runc")))
	if err := os.Chmod(n.wrapper, 0o755); err != nil {
		t.Fatal(err)
	}
	writeAuditProfile(t, n.profileRoot)
	n.writePolicy(t, "")
	t.Cleanup(func() {
		// podman keeps its overlay storage mounted; TempDir's removal
		// would fail on it.
		n.podman("rmi", "-a", "-f")
		for _, m := range nodekit.MountsUnder(dir) {
			syscall.Unmount(m, syscall.MNT_DETACH)
		}
		os.RemoveAll(dir)
	})
	for _, img := range images {
		if strings.Contains(img, "busybox") {
			if out, err := n.podman("load", "-i", img); err != nil {
				t.Fatalf("podman load: %v\n%s", err, out)
			}
		}
	}
	return n
}

func (n *podmanNode) writePolicy(t *testing.T, extra string) {
	writeFile(t, n.policyPath, fmt.Sprintf("runtime = %q\nprofile_root = %q\ncache_dir = %q\ndecision_log = %q\n%s\n",
		"/usr/sbin/runc", n.profileRoot, filepath.Join(n.dir, "bpf-cache"), n.decisionLog, extra))
}

func (n *podmanNode) podman(args ...string) (string, error) {
	return n.podmanWith(n.wrapper, args...)
}

// podmanWith runs podman with runtime as its OCI runtime.
func (n *podmanNode) podmanWith(runtime string, args ...string) (string, error) {
	global := []string{
		"--root", filepath.Join(n.dir, "storage"), "--runroot", filepath.Join(n.dir, "run"),
		"--tmpdir", filepath.Join(n.dir, "tmp"), "--storage-driver", "overlay",
		"--cgroup-manager", "cgroupfs", "--events-backend", "file", "--runtime", runtime,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "podman", append(global, args...)...)
	// CONTAINERS_CONF keeps the machine's containers.conf (if any) out of
	// the test.
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF=/dev/null")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// podmanProbe is the container command: its seccomp mode, the seed's mkdir, an
// unshare that RuntimeDefault-like profiles block, and an ordinary command.
const podmanProbe = `grep '^Seccomp:' /proc/self/status; mkdir /tmp/test && echo mkdir-ok; unshare -m true 2>/dev/null && echo unshare-ok; ls / >/dev/null && echo ls-ok`

func (n *podmanNode) run(t *testing.T, opts ...string) (string, error) {
	// podman sets RLIMIT_NOFILE and RLIMIT_NPROC to its own raised limits,
	// which runc cannot apply without CAP_SYS_RESOURCE (this VM has none):
	// ask for limits below the current ones.
	args := append([]string{"run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"}, opts...)
	return n.podman(append(args, busyboxImage, "sh", "-c", podmanProbe)...)
}

func (n *podmanNode) lastDecision(t *testing.T) decisionRecord {
	data, err := os.ReadFile(n.decisionLog)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	d := (&daemon{decisionLog: n.decisionLog}).decisions(t)
	for _, r := range d {
		if strings.Contains(lines[len(lines)-1], r.Container.ID) {
			return r
		}
	}
	t.Fatal("no decision recorded")
	return decisionRecord{}
}

// TestPodman: podman renders its own default profile (containers-common's
// seccomp.json); sysgate keeps it (decision row "spec") and applies the
// node's policy only where podman rendered none.
func TestPodman(t *testing.T) {
	n := newPodman(t)
	cases := []struct {
		name        string
		policy      string
		opts        []string
		seccomp     string
		mkdir       bool
		unshare     bool // unshare -m needs CAP_SYS_ADMIN as well as seccomp's leave
		source, typ string
	}{
		// Fails at the time of writing: podman 4.3 renders containers-common's
		// profile with setns both in the big ALLOW rule and in an ERRNO(1)
		// rule (default ERRNO(38)), and spec's validator rejects two actions
		// for one syscall as something libseccomp refuses; libseccomp 2.5.4
		// accepts it (the first rule wins) and runc and crun run it.
		{"podman's default profile is kept", "", nil, "2", true, false, "spec", "Rendered"},
		{"--security-opt seccomp=<file> is kept", "", []string{"--security-opt", "seccomp=" + filepath.Join(n.profileRoot, "profiles/audit.json")}, "2", false, false, "spec", "Rendered"},
		{"seccomp=unconfined falls to the node default", "", []string{"--security-opt", "seccomp=unconfined"}, "2", true, false, "node default", "RuntimeDefault"},
		{"seccomp=unconfined with an unconfined node default", `default = "unconfined"`, []string{"--security-opt", "seccomp=unconfined"}, "0", true, false, "node default", "Unconfined"},
		{"the Pod annotation applies where podman rendered nothing", "", []string{"--security-opt", "seccomp=unconfined",
			"--annotation", spec.AnnotationPodSeccomp + "=localhost/profiles/audit.json"}, "2", false, false, "pod annotation", "Localhost"},
		{"--privileged follows the policy's privileged key", `privileged = "runtime/default"`, []string{"--privileged"}, "2", true, true, "privileged policy", "RuntimeDefault"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n.writePolicy(t, c.policy)
			out, err := n.run(t, c.opts...)
			if err != nil {
				t.Fatalf("podman run: %v\n%s", err, out)
			}
			if !strings.Contains(out, "Seccomp:\t"+c.seccomp) || strings.Contains(out, "mkdir-ok") != c.mkdir ||
				strings.Contains(out, "unshare-ok") != c.unshare || !strings.Contains(out, "ls-ok") {
				t.Errorf("want Seccomp %s, mkdir %v, unshare %v, ls; got\n%s", c.seccomp, c.mkdir, c.unshare, out)
			}
			if !c.mkdir && !strings.Contains(out, "Operation not permitted") {
				t.Errorf("mkdir must fail with Operation not permitted:\n%s", out)
			}
			if d := n.lastDecision(t); d.Source != c.source || d.Type != c.typ {
				t.Errorf("sysgate decided %+v, want %s/%s", d, c.source, c.typ)
			}
		})
	}
	t.Run("a refusal reaches podman's error", func(t *testing.T) {
		n.writePolicy(t, `default = "unconfined"`+"\n"+`unconfined = "deny"`)
		out, err := n.run(t, "--security-opt", "seccomp=unconfined")
		if err == nil || !strings.Contains(out, "sysgate: refusing to create") {
			t.Fatalf("want podman run to fail with sysgate's refusal; got %v\n%s", err, out)
		}
		t.Logf("podman says: %s", strings.TrimSpace(out))
	})
}
