package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/integration/helperproc"
)

var (
	builtOnce sync.Once
	builtBin  string
	builtErr  error
)

// oldSysgate is this package built as another version, for a stale helper
// and a stale install.
func oldSysgate(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "old", "sysgate")
	if out, err := exec.Command("go", "build", "-ldflags", "-X main.version=v0.0.1-old", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// builtSysgate is this package built once, version "dev" like the test
// binary, for what doctor runs: the sysgate beside a handler, a helper.
func builtSysgate(t *testing.T) string {
	t.Helper()
	builtOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sgdoctor-")
		if err != nil {
			builtErr = err
			return
		}
		builtBin = filepath.Join(dir, "sysgate")
		if out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput(); err != nil {
			builtErr = err
			t.Logf("%s", out)
		}
	})
	if builtErr != nil {
		t.Fatal(builtErr)
	}
	return builtBin
}

// testNode is a healthy node under a temporary directory: a policy running
// crun, a valid Localhost profile, a cache directory, and a Docker config
// whose handler runs a sysgate-runc installed beside this build's sysgate.
type testNode struct {
	dir, policy, profiles, cache, bin, dockerConf, record string
	extra                                                 []string // more doctor flags
}

func newTestNode(t *testing.T) *testNode {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("doctor's trust checks want root-owned paths: run as root")
	}
	crun, err := exec.LookPath("crun")
	if err != nil {
		t.Skip("crun not installed (apt-get install crun): the healthy node runs it")
	}
	dir := t.TempDir()
	n := &testNode{dir: dir, policy: filepath.Join(dir, "config.toml"), profiles: filepath.Join(dir, "seccomp"),
		cache: filepath.Join(dir, "cache"), bin: filepath.Join(dir, "bin"), dockerConf: filepath.Join(dir, "daemon.json"),
		record: filepath.Join(dir, "install.json")}
	for _, d := range []string{n.profiles + "/profiles", n.cache, n.bin} {
		must(t, os.MkdirAll(d, 0o755))
	}
	must(t, os.WriteFile(n.policy, []byte("runtime = \""+crun+"\"\nprofile_root = \""+n.profiles+"\"\ncache_dir = \""+n.cache+"\"\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(n.profiles, "profiles", "ok.json"), []byte(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}`), 0o644))
	data, err := os.ReadFile(builtSysgate(t))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(n.bin, "sysgate"), data, 0o755))
	must(t, os.WriteFile(filepath.Join(n.bin, "sysgate-runc"), []byte("#!/bin/sh\nexec "+crun+" \"$@\"\n"), 0o755))
	must(t, os.WriteFile(n.dockerConf, []byte(`{"runtimes": {"sysgate": {"path": "`+filepath.Join(n.bin, "sysgate-runc")+`"}}}`), 0o644))
	return n
}

func (n *testNode) doctor(t *testing.T, extra ...string) (int, []finding, string) {
	t.Helper()
	args := append([]string{"doctor", "--output", "json", "--config", n.policy, "--record", n.record,
		"--helper-socket", filepath.Join(n.dir, "helper.sock"), "--docker", "--docker-config", n.dockerConf}, append(n.extra, extra...)...)
	code, stdout, stderr := runCLI(args...)
	var out struct {
		Healthy  bool
		Findings []finding
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("doctor --output json: %v\n%s%s", err, stdout, stderr)
	}
	if out.Healthy != (code == 0) {
		t.Errorf("healthy %v but exit %d", out.Healthy, code)
	}
	return code, out.Findings, stdout
}

func findingFor(fs []finding, check string) (finding, bool) {
	for _, f := range fs {
		if f.Check == check {
			return f, true
		}
	}
	return finding{}, false
}

// TestDoctor plants one fault at a time on a healthy node: doctor exits 0
// on the node, non-zero with each fault, and names the fault and its fix.
func TestDoctor(t *testing.T) {
	n := newTestNode(t)
	code, fs, out := n.doctor(t)
	if code != 0 {
		t.Fatalf("healthy node: exit %d\n%s", code, out)
	}
	for _, f := range fs {
		if f.Status == statusFail {
			t.Errorf("healthy node: %+v", f)
		}
	}

	for _, c := range []struct {
		name  string
		plant func(t *testing.T, n *testNode) (undo func())
		check string
		want  []string // in detail or fix
	}{
		{"world-writable cache directory", func(t *testing.T, n *testNode) func() {
			must(t, os.Chmod(n.cache, 0o777))
			return func() { os.Chmod(n.cache, 0o755) }
		}, "trust cache_dir", []string{"writable by group or others", "chmod go-w " + n.cache}},
		{"invalid Localhost profile", func(t *testing.T, n *testNode) func() {
			p := filepath.Join(n.profiles, "profiles", "bad.json")
			must(t, os.WriteFile(p, []byte(`{"defaultAction": "SCMP_ACT_NOPE"}`), 0o644))
			return func() { os.Remove(p) }
		}, "localhost profiles", []string{"profiles/bad.json", "sysgate profile validate"}},
		{"handler pointing at a missing binary", func(t *testing.T, n *testNode) func() {
			old, _ := os.ReadFile(n.dockerConf)
			must(t, os.WriteFile(n.dockerConf, []byte(`{"runtimes": {"sysgate": {"path": "/nonexistent/sysgate-runc"}}}`), 0o644))
			return func() { os.WriteFile(n.dockerConf, old, 0o644) }
		}, "engine docker", []string{"/nonexistent/sysgate-runc", "make install"}},
		{"no handler at all", func(t *testing.T, n *testNode) func() {
			old, _ := os.ReadFile(n.dockerConf)
			must(t, os.WriteFile(n.dockerConf, []byte(`{}`), 0o644))
			return func() { os.WriteFile(n.dockerConf, old, 0o644) }
		}, "engine docker", []string{"no handler", "sysgate install --docker --docker-config " + n.dockerConf}},
		{"stale helper: another policy", func(t *testing.T, n *testNode) func() {
			other := filepath.Join(n.dir, "other.toml")
			must(t, os.WriteFile(other, []byte("runtime = \"/bin/true\"\n"), 0o644))
			h, err := helperproc.Start(filepath.Join(n.bin, "sysgate"), other, filepath.Join(n.dir, "helper.sock"))
			must(t, err)
			return func() { h.Stop() }
		}, "helper", []string{"serves policy " + filepath.Join(n.dir, "other.toml"), "systemctl restart sysgate-helper"}},
		{"stale helper: its binary replaced", func(t *testing.T, n *testNode) func() {
			must(t, os.MkdirAll(filepath.Join(n.dir, "old"), 0o755))
			old := filepath.Join(n.dir, "old", "sysgate")
			data, _ := os.ReadFile(filepath.Join(n.bin, "sysgate"))
			must(t, os.WriteFile(old, data, 0o755))
			h, err := helperproc.Start(old, n.policy, filepath.Join(n.dir, "helper.sock"))
			must(t, err)
			// An upgrade renames the new binary over the old one.
			must(t, os.WriteFile(old+".new", data, 0o755))
			must(t, os.Rename(old+".new", old))
			return func() { h.Stop() }
		}, "helper", []string{"(deleted)", "systemctl restart sysgate-helper"}},
		{"stale helper: an older build", func(t *testing.T, n *testNode) func() {
			h, err := helperproc.Start(oldSysgate(t), n.policy, filepath.Join(n.dir, "helper.sock"))
			must(t, err)
			return func() { h.Stop() }
		}, "helper", []string{"runs sysgate v0.0.1-old", "a stale helper", "systemctl restart sysgate-helper"}},
		{"installed binaries of another build", func(t *testing.T, n *testNode) func() {
			old := oldSysgate(t)
			must(t, os.WriteFile(filepath.Join(filepath.Dir(old), "sysgate-runc"), []byte("#!/bin/sh\n"), 0o755))
			data, _ := os.ReadFile(n.dockerConf)
			must(t, os.WriteFile(n.dockerConf, []byte(`{"runtimes": {"sysgate": {"path": "`+filepath.Join(filepath.Dir(old), "sysgate-runc")+`"}}}`), 0o644))
			return func() { os.WriteFile(n.dockerConf, data, 0o644) }
		}, "engine docker", []string{"of sysgate v0.0.1-old, this is dev", "make install"}},
		{"shim handler without its binary", func(t *testing.T, n *testNode) func() {
			if p, err := exec.LookPath("containerd-shim-sysgate-v1"); err == nil {
				t.Skipf("%s is in PATH: the missing-binary case cannot be planted here", p)
			}
			ctd := filepath.Join(n.dir, "containerd.toml")
			must(t, os.WriteFile(ctd, []byte("version = 3\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.sysgate.options]\n  BinaryName = '"+filepath.Join(n.bin, "sysgate-runc")+"'\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.sysgate-shim]\n  runtime_type = 'io.containerd.sysgate.v1'\n"), 0o644))
			n.extra = []string{"--containerd", "--containerd-config", ctd}
			return func() { n.extra = nil }
		}, "engine containerd", []string{"containerd-shim-sysgate-v1", "make install"}},
		{"helper gone, socket left", func(t *testing.T, n *testNode) func() {
			p := filepath.Join(n.dir, "helper.sock")
			must(t, os.WriteFile(p, nil, 0o600))
			return func() { os.Remove(p) }
		}, "helper", []string{"no `sysgate helper` serves it"}},
		{"policy does not parse", func(t *testing.T, n *testNode) func() {
			old, _ := os.ReadFile(n.policy)
			must(t, os.WriteFile(n.policy, append(append([]byte(nil), old...), "unconfined = \"maybe\"\n"...), 0o644))
			return func() { os.WriteFile(n.policy, old, 0o644) }
		}, "policy", []string{"unconfined", "fix " + n.policy}},
	} {
		t.Run(c.name, func(t *testing.T) {
			undo := c.plant(t, n)
			code, fs, out := n.doctor(t)
			undo()
			f, ok := findingFor(fs, c.check)
			if code == 0 || !ok || f.Status != statusFail {
				t.Fatalf("exit %d, %s: %+v\n%s", code, c.check, f, out)
			}
			for _, w := range c.want {
				if !strings.Contains(f.Detail+" fix: "+f.Fix, w) {
					t.Errorf("%s: %q lacks %q", c.check, f.Detail+" fix: "+f.Fix, w)
				}
			}
		})
	}

	t.Run("helper serving this policy", func(t *testing.T) {
		h, err := helperproc.Start(filepath.Join(n.bin, "sysgate"), n.policy, filepath.Join(n.dir, "helper.sock"))
		must(t, err)
		defer h.Stop()
		code, fs, out := n.doctor(t)
		if f, _ := findingFor(fs, "helper"); code != 0 || f.Status != statusOK || !strings.Contains(f.Detail, "(mode 0600)") {
			t.Errorf("exit %d, helper %+v\n%s", code, f, out)
		}
	})

	// `sysgate helper` execs the lean sysgate-helper for a creates-only
	// policy: doctor finds it by its own name and asks it its version.
	t.Run("lean helper serving this policy", func(t *testing.T) {
		lean := filepath.Join(n.bin, "sysgate-helper")
		if out, err := exec.Command("go", "build", "-o", lean, "../sysgate-helper").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		defer os.Remove(lean)
		h, err := helperproc.Start(filepath.Join(n.bin, "sysgate"), n.policy, filepath.Join(n.dir, "helper.sock"))
		must(t, err)
		defer h.Stop()
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", h.Pid())); exe != lean {
			t.Fatalf("the helper runs %s, want %s", exe, lean)
		}
		code, fs, out := n.doctor(t)
		if f, _ := findingFor(fs, "helper"); code != 0 || f.Status != statusOK {
			t.Errorf("exit %d, helper %+v\n%s", code, f, out)
		}
	})

	// The real cases of this machine: a warning with its fix, exit 0.
	t.Run("runtime without flag support", func(t *testing.T) {
		runc, err := exec.LookPath("runc")
		if err != nil {
			t.Skip("runc not installed")
		}
		if out, _ := exec.Command(runc, "features").Output(); strings.Contains(string(out), "supportedFlags") {
			t.Skipf("%s lists seccomp flags: not the runtime this case needs (runc 1.1.x)", runc)
		}
		old, _ := os.ReadFile(n.policy)
		must(t, os.WriteFile(n.policy, []byte(strings.Replace(string(old), "runtime = ", "runtime = \""+runc+"\"\n#", 1)), 0o644))
		defer os.WriteFile(n.policy, old, 0o644)
		code, fs, out := n.doctor(t)
		f, _ := findingFor(fs, "runtime")
		if code != 0 || f.Status != statusWarn || !strings.Contains(f.Detail, "accepts no seccomp flags") || !strings.Contains(f.Fix, "crun") {
			t.Errorf("exit %d, runtime: %+v\n%s", code, f, out)
		}
	})
	t.Run("host without IA-32", func(t *testing.T) {
		_, fs, out := n.doctor(t)
		f, _ := findingFor(fs, "abi i386")
		if filter.HostABI("i386").Live {
			if f.Status != statusOK {
				t.Errorf("IA-32 live, doctor says %+v", f)
			}
			t.Skip("IA-32 is live on this kernel: the planted case needs a kernel booted with ia32_emulation=0")
		}
		if f.Status != statusWarn || !strings.Contains(f.Fix, "ia32_emulation=1") {
			t.Errorf("abi i386: %+v\n%s", f, out)
		}
	})
	t.Run("text output", func(t *testing.T) {
		code, stdout, _ := runCLI("doctor", "--config", n.policy, "--record", n.record, "--helper-socket", filepath.Join(n.dir, "helper.sock"), "--docker", "--docker-config", "/nonexistent/daemon.json")
		if code != exitFailure || !strings.Contains(stdout, "FAIL  engine docker") || !strings.Contains(stdout, "fix: sysgate install --docker") {
			t.Errorf("exit %d\n%s", code, stdout)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestDoctorNRIPlugin: nri_required without a plugin on the node's NRI
// socket is a failure; a plugin there with another policy too; one with
// this policy is OK; a plugin on another socket is another containerd's.
func TestDoctorNRIPlugin(t *testing.T) {
	n := newTestNode(t)
	socket := filepath.Join(n.dir, "nri.sock")
	n.extra = []string{"--nri-socket", socket}
	if _, fs, _ := n.doctor(t); func() bool { _, ok := findingFor(fs, "nri plugin"); return ok }() {
		t.Errorf("no plugin and none required: want no finding, got %+v", fs)
	}
	must(t, os.WriteFile(n.policy, append(must2(os.ReadFile(n.policy)), []byte("nri_required = true\n")...), 0o644))
	code, fs, out := n.doctor(t)
	if f, ok := findingFor(fs, "nri plugin"); code == 0 || !ok || f.Status != statusFail || !strings.Contains(f.Detail, "nri_required = true") {
		t.Errorf("nri_required without a plugin: exit %d\n%s", code, out)
	}
	start := func(args ...string) {
		cmd := exec.Command(builtSysgate(t), append([]string{"nri"}, args...)...)
		must(t, cmd.Start())
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	}
	start("--socket", filepath.Join(n.dir, "other.sock"), "--config", n.policy)
	if _, fs, out := n.doctor(t); func() bool { f, _ := findingFor(fs, "nri plugin"); return f.Status != statusFail }() {
		t.Errorf("a plugin on another socket was taken for this node's:\n%s", out)
	}
	start("--socket", socket, "--config", n.policy)
	code, fs, out = n.doctor(t)
	if f, _ := findingFor(fs, "nri plugin"); code != 0 || f.Status != statusOK {
		t.Errorf("the node's plugin with its policy: exit %d\n%s", code, out)
	}
	other := filepath.Join(n.dir, "other.toml")
	must(t, os.WriteFile(other, must2(os.ReadFile(n.policy)), 0o644))
	start("--socket", socket, "--config", other)
	_, fs, out = n.doctor(t)
	var failed bool
	for _, f := range fs {
		failed = failed || f.Check == "nri plugin" && f.Status == statusFail && strings.Contains(f.Detail, "decides with policy "+other)
	}
	if !failed {
		t.Errorf("a plugin with another policy:\n%s", out)
	}
}

func must2(data []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return data
}
