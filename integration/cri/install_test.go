package cri

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// installHandlers runs `sysgate install --containerd` on the daemon's
// config, as an operator would on a plain node, before containerd starts.
func (d *daemon) installHandlers(t testing.TB, bin, config string) {
	t.Helper()
	d.configBefore = config
	out, err := exec.Command(filepath.Join(bin, "sysgate"), "install", "--containerd",
		"--containerd-config", filepath.Join(d.dir, "config.toml"), "--record", filepath.Join(d.dir, "install.json"),
		"--runtime-path", filepath.Join(bin, "sysgate-runc")).CombinedOutput()
	if err != nil {
		t.Fatalf("sysgate install: %v\n%s", err, out)
	}
	t.Logf("sysgate install:\n%s", out)
}

// TestInstallContainerd: for containerd 1.6 and 2.x, `sysgate install
// --containerd` on a config without sysgate's handlers, then a Pod through
// the handler it added (filtered by the node default), then `sysgate
// uninstall`: the config is byte-identical to before.
func TestInstallContainerd(t *testing.T) {
	requireCRI(t)
	for _, f := range flavors() {
		f.name += "-installed"
		f.install, f.helper = true, false
		t.Run(f.name, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(f.dir, "containerd")); err != nil {
				if f.configVersion == 2 {
					t.Fatalf("%s: %v (apt-get install containerd)", f.name, err)
				}
				t.Skipf("%s not built in %s (make test-cri builds it from the Go module proxy)", f.name, f.dir)
			}
			d := startDaemon(t, f)
			rp, err := d.runPod(t, handlerSysgate, pod{Name: "installed", Containers: []container{{Name: "app"}}})
			if err != nil {
				t.Fatalf("a Pod through the installed handler: %v\n%s", err, d.logTail())
			}
			o := d.observe(t, rp.Containers["app"])
			if o.HostSeccomp != "2" || o.Decision.Source != "node default" {
				t.Errorf("container through the installed handler: Seccomp %q, decision %+v", o.HostSeccomp, o.Decision)
			}
			cfg := filepath.Join(d.dir, "config.toml")
			out, err := exec.Command(filepath.Join(tools(t), "sysgate"), "uninstall", "--record", filepath.Join(d.dir, "install.json")).CombinedOutput()
			if err != nil {
				t.Fatalf("sysgate uninstall: %v\n%s", err, out)
			}
			if got, _ := os.ReadFile(cfg); string(got) != d.configBefore {
				t.Errorf("config after uninstall differs from before:\n%s\nwant\n%s", got, d.configBefore)
			}
		})
	}
}

// TestInstallPodman: `sysgate install --podman` into a private
// containers.conf (CONTAINERS_CONF), `podman --runtime sysgate run`, then
// uninstall: the file is byte-identical.
func TestInstallPodman(t *testing.T) {
	n := newPodman(t)
	conf := filepath.Join(n.dir, "containers.conf")
	before := "# a node's containers.conf\n[engine]\nevents_logger = \"file\"\n\n[engine.runtimes]\ncrun = [\"/usr/bin/crun\"]\n"
	writeFile(t, conf, before)
	sysgate := filepath.Join(tools(t), "sysgate")
	record := filepath.Join(n.dir, "install.json")
	if out, err := exec.Command(sysgate, "install", "--podman", "--podman-config", conf, "--record", record, "--runtime-path", n.wrapper).CombinedOutput(); err != nil {
		t.Fatalf("sysgate install: %v\n%s", err, out)
	}
	// The handler by name, from containers.conf: not n.podman's --runtime
	// path.
	args := []string{"--root", filepath.Join(n.dir, "storage"), "--runroot", filepath.Join(n.dir, "run"),
		"--tmpdir", filepath.Join(n.dir, "tmp"), "--storage-driver", "overlay", "--cgroup-manager", "cgroupfs",
		"--events-backend", "file", "--runtime", "sysgate",
		"run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
		"--security-opt", "seccomp=unconfined", busyboxImage, "sh", "-c", podmanProbe}
	cmd := exec.Command("podman", args...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+conf)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("podman --runtime sysgate run: %v\n%s", err, out)
	}
	// podman rendered nothing (unconfined asked); the node default of
	// sysgate's policy filters it: sysgate-runc ran.
	if !strings.Contains(string(out), "Seccomp:\t2") || n.lastDecision(t).Source != "node default" {
		t.Errorf("container through the installed runtime:\n%s", out)
	}
	if out, err := exec.Command(sysgate, "uninstall", "--record", record).CombinedOutput(); err != nil {
		t.Fatalf("sysgate uninstall: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(conf); string(got) != before {
		t.Errorf("containers.conf after uninstall:\n%q\nwant\n%q", got, before)
	}
}

// TestInstallDocker: `sysgate install --docker` into a private daemon.json,
// a private dockerd (own config file, data root, exec root, socket; no
// iptables, no bridge), `docker run --runtime sysgate`, then uninstall:
// daemon.json is byte-identical.
func TestInstallDocker(t *testing.T) {
	requireCRI(t)
	bin := tools(t)
	dir, err := os.MkdirTemp("/tmp", "sgdock-") // socket paths are short
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "daemon.json")
	before := "{\n  \"debug\": false,\n  \"log-level\": \"warn\"\n}\n"
	writeFile(t, conf, before)
	policy := filepath.Join(dir, "sysgate.toml")
	writeFile(t, policy, fmt.Sprintf("runtime = %q\nprofile_root = %q\ncache_dir = %q\ndecision_log = %q\n", "/usr/sbin/runc", filepath.Join(dir, "seccomp"), filepath.Join(dir, "cache"), filepath.Join(dir, "decisions.jsonl")))
	record := filepath.Join(dir, "install.json")
	if out, err := exec.Command(filepath.Join(bin, "sysgate"), "install", "--docker", "--docker-config", conf, "--record", record,
		"--runtime-path", filepath.Join(bin, "sysgate-runc")).CombinedOutput(); err != nil {
		t.Fatalf("sysgate install: %v\n%s", err, out)
	}
	cli := startDockerd(t, dir, conf, policy)
	if out, err := cli("info", "--format", "{{json .Runtimes}}"); err != nil || !strings.Contains(out, filepath.Join(bin, "sysgate-runc")) {
		t.Fatalf("dockerd does not list the installed runtime: %v %s", err, out)
	}
	importBusybox(t, dir, cli)
	out, err := cli("run", "--rm", "--runtime", "sysgate", "--network", "none", "--security-opt", "seccomp=unconfined",
		"sysgate.test/busybox-docker:1", "/bin/busybox", "grep", "^Seccomp:", "/proc/self/status")
	if err != nil {
		t.Fatalf("docker run --runtime sysgate: %v\n%s", err, out)
	}
	decisions, _ := os.ReadFile(filepath.Join(dir, "decisions.jsonl"))
	var last struct{ Source string }
	lines := strings.Split(strings.TrimSpace(string(decisions)), "\n")
	json.Unmarshal([]byte(lines[len(lines)-1]), &last)
	if !strings.Contains(out, "Seccomp:\t2") || last.Source != "node default" {
		t.Errorf("docker run --runtime sysgate: %q, last decision %q (want the node default through sysgate-runc)", out, decisions)
	}
	if out, err := exec.Command(filepath.Join(bin, "sysgate"), "uninstall", "--record", record).CombinedOutput(); err != nil {
		t.Fatalf("sysgate uninstall: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(conf); string(got) != before {
		t.Errorf("daemon.json after uninstall:\n%q\nwant\n%q", got, before)
	}
}
