package cri

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sysgate/sysgate/integration/helperproc"
	"github.com/sysgate/sysgate/integration/nodekit"
	"github.com/sysgate/sysgate/shim"
)

// Handlers registered in every daemon.
const (
	handlerRunc    = "runc"
	handlerSysgate = "sysgate"      // BinaryName = sysgate-runc
	handlerShim    = "sysgate-shim" // runtime_type io.containerd.sysgate.v1
)

// daemon is one private containerd: everything lives under dir, so that
// leaks are visible and removal is one RemoveAll.
type daemon struct {
	flavor      flavor
	dir         string
	root, state string
	sock        string
	policyPath  string
	profileRoot string
	decisionLog string
	logPath     string
	crictlConf  string
	cmd         *exec.Cmd
	exited      chan struct{}
	// helperSocket and helper: the flavor's helper, if it has one.
	helperSocket string
	helper       *helperproc.Process
	// configBefore: the config before `sysgate install` (flavor.install).
	configBefore string
	// crunPolicy: the policy of the sysgate shim's crun handler; empty
	// when the daemon has no crun handlers (crun_test.go).
	crunPolicy string
	// crunHelper serves crunPolicy when the flavor has a helper: a helper
	// serves one policy, as on a node with one helper per policy file.
	crunHelper *helperproc.Process
	// runtimeLines name the policy's runtime; runc unless the flavor is
	// a crun node.
	runtimeLines string
}

var daemons struct {
	sync.Mutex
	m map[string]*daemon
}

// startDaemon starts the flavor's daemon once per test binary; later tests
// share it, and TestMain stops it.
func startDaemon(t testing.TB, f flavor) *daemon {
	t.Helper()
	daemons.Lock()
	defer daemons.Unlock()
	if d, ok := daemons.m[f.name]; ok {
		return d
	}
	bin := tools(t)
	images := buildImages(t)
	// Short: shim and containerd sockets are unix socket paths (108 bytes).
	dir, err := os.MkdirTemp("/tmp", "sgcri-")
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{
		flavor: f, dir: dir,
		root: filepath.Join(dir, "root"), state: filepath.Join(dir, "state"),
		sock:        filepath.Join(dir, "containerd.sock"),
		policyPath:  filepath.Join(dir, "sysgate.toml"),
		profileRoot: filepath.Join(dir, "seccomp"),
		decisionLog: filepath.Join(dir, "decisions.jsonl"),
		logPath:     filepath.Join(dir, "containerd.log"),
		crictlConf:  filepath.Join(dir, "crictl.yaml"),
	}
	for _, sub := range []string{"cni/bin", "cni/conf", "opt", "seccomp/profiles"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	d.writePolicy(t, "")
	writeAuditProfile(t, d.profileRoot)
	config, err := d.config(bin)
	if err != nil {
		t.Fatal(err)
	}
	config += d.crunConfig(t, bin)
	if f.crunNode {
		if d.crunPolicy == "" {
			t.Fatal("a crun node needs crun (apt-get install crun)")
		}
		d.runtimeLines = fmt.Sprintf("runtime = %q\nruntime_kind = \"crun\"", filepath.Join(dir, "crun-cri"))
		d.writePolicy(t, "")
	}
	writeFile(t, filepath.Join(dir, "config.toml"), config)
	if f.install {
		d.installHandlers(t, bin, config)
	}
	writeFile(t, d.crictlConf, fmt.Sprintf("runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 120\npull-image-on-create: false\n", d.sock, d.sock))

	logf, err := os.Create(d.logPath)
	if err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command(filepath.Join(f.dir, "containerd"), "--config", filepath.Join(dir, "config.toml"))
	// containerd finds shims (containerd-shim-runc-v2 of its own version,
	// containerd-shim-sysgate-v1) through PATH, and shims inherit its
	// environment, which is how SYSGATE_CONFIG reaches sysgate-runc and the
	// sysgate shim.
	if f.helper {
		d.startHelper(t, bin)
	}
	d.cmd.Env = append(os.Environ(),
		"PATH="+f.dir+":"+bin+":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"SYSGATE_CONFIG="+d.policyPath, shim.HelperSocketEnv+"="+d.helperSocket)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d.exited = make(chan struct{})
	go func() { d.cmd.Wait(); logf.Close(); close(d.exited) }()
	if daemons.m == nil {
		daemons.m = map[string]*daemon{}
	}
	daemons.m[f.name] = d

	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, _, err := d.crictlErr("info"); err == nil {
			break
		}
		select {
		case <-d.exited:
			t.Fatalf("%s exited at start:\n%s", f.name, d.logTail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer on %s:\n%s", f.name, d.sock, d.logTail())
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, img := range images {
		out, err := exec.Command(filepath.Join(f.dir, "ctr"), "--address", d.sock, "-n", "k8s.io", "images", "import", img).CombinedOutput()
		if err != nil {
			t.Fatalf("ctr images import %s: %v\n%s", img, err, out)
		}
	}
	// The CRI learns of imported images from containerd's events; wait
	// until it lists both.
	for deadline := time.Now().Add(20 * time.Second); ; {
		out, _, err := d.crictlErr("images", "-o", "json")
		if err == nil && strings.Contains(out, pauseImage) && strings.Contains(out, busyboxImage) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the CRI does not list the imported images: %v\n%s", err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return d
}

// startHelper runs `sysgate helper` for the daemon's policy, as the
// deploy/systemd unit does on a node.
func (d *daemon) startHelper(t testing.TB, bin string) {
	t.Helper()
	d.helperSocket = filepath.Join(d.dir, "helper.sock")
	h, err := helperproc.StartSupervised(filepath.Join(bin, "sysgate"), d.policyPath, d.helperSocket)
	if err != nil {
		t.Fatal(err)
	}
	d.helper = h
}

// config renders the daemon's config: a private base plus the deploy/
// snippet an operator would install, with its binary path pointed at the
// freshly built sysgate-runc. So the snippet itself is what the suite runs.
func (d *daemon) config(bin string) (string, error) {
	snippet := "config-v2.toml"
	base := baseConfigV2
	if d.flavor.configVersion == 3 {
		snippet, base = "config-v3.toml", baseConfigV3
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "containerd", snippet))
	if err != nil {
		return "", err
	}
	handlers := strings.ReplaceAll(string(data), "/usr/local/bin/sysgate-runc", filepath.Join(bin, "sysgate-runc"))
	if !strings.Contains(handlers, filepath.Join(bin, "sysgate-runc")) {
		return "", fmt.Errorf("deploy/containerd/%s does not name /usr/local/bin/sysgate-runc", snippet)
	}
	if d.flavor.nri {
		base = nriBase(base)
	}
	r := strings.NewReplacer("{dir}", d.dir, "{root}", d.root, "{state}", d.state, "{sock}", d.sock, "{pause}", pauseImage)
	if d.flavor.install {
		return r.Replace(base), nil
	}
	return r.Replace(base) + "\n" + handlers, nil
}

// baseConfigV2 is containerd 1.6's private daemon. restrict_oom_score_adj
// because this machine's process cannot lower oom_score_adj (no
// CAP_SYS_RESOURCE), which every sandbox would otherwise try. The
// sysgate-shim handler is here only so that the suite can show what
// containerd 1.6 says about it.
const baseConfigV2 = `version = 2
root = "{root}"
state = "{state}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "{sock}"
[ttrpc]
  address = "{sock}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "{dir}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{pause}"
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{dir}/cni/bin"
    conf_dir = "{dir}/cni/conf"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.sysgate-shim]
      runtime_type = "io.containerd.sysgate.v1"
`

// baseConfigV3 is the same daemon for containerd 2.x. NRI is off: its
// socket is machine-wide and this daemon is not the machine's.
var baseConfigV3 = `version = 3
root = "{root}"
state = "{state}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.erofs", "io.containerd.nri.v1.nri"]
[grpc]
  address = "{sock}"
[ttrpc]
  address = "{sock}.ttrpc"
[plugins.'io.containerd.internal.v1.opt']
  path = "{dir}/opt"
` + nodekit.CRIPluginsV3("{dir}/cni/bin", "{dir}/cni/conf")

// writePolicy is the node's sysgate policy; sysgate-runc and the shim read
// it at every create, so a test may change it between Pods.
func (d *daemon) writePolicy(t testing.TB, extra string) {
	t.Helper()
	runtime := d.runtimeLines
	if runtime == "" {
		runtime = `runtime = "/usr/sbin/runc"`
	}
	writeFile(t, d.policyPath, fmt.Sprintf("%s\nprofile_root = %q\ncache_dir = %q\ndecision_log = %q\n%s\n",
		runtime, d.profileRoot, filepath.Join(d.dir, "bpf-cache"), d.decisionLog, extra))
}

func writeFile(t testing.TB, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// crictl runs crictl against this daemon and fails the test on error.
func (d *daemon) crictl(t testing.TB, args ...string) string {
	t.Helper()
	out, stderr, err := d.crictlErr(args...)
	if err != nil {
		t.Fatalf("crictl %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
	}
	return out
}

func (d *daemon) crictlErr(args ...string) (stdout, stderr string, err error) {
	path, err := crictlPath()
	if err != nil {
		return "", "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, append([]string{"--config", d.crictlConf}, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func (d *daemon) ctr(t testing.TB, args ...string) string {
	t.Helper()
	// Stdout only: containerd 2.x's ctr warns about cgroup v1 on stderr.
	cmd := exec.Command(filepath.Join(d.flavor.dir, "ctr"), append([]string{"--address", d.sock, "-n", "k8s.io"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ctr %v: %v\n%s%s", args, err, out, stderr.String())
	}
	return string(out)
}

func (d *daemon) logTail() string {
	data, _ := os.ReadFile(d.logPath)
	if len(data) > 6000 {
		data = data[len(data)-6000:]
	}
	return string(data)
}

// decisions reads sysgate's decision log, keyed by container id (the last
// record wins: an idempotent second create records again).
func (d *daemon) decisions(t testing.TB) map[string]decisionRecord {
	t.Helper()
	data, err := os.ReadFile(d.decisionLog)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	out := map[string]decisionRecord{}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var r decisionRecord
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("decision log line %q: %v", line, err)
		}
		out[r.Container.ID] = r
	}
	return out
}

// decisionRecord is the part of a shim decision_log line the tests read.
type decisionRecord struct {
	Container struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"container"`
	Source string `json:"source"`
	Type   string `json:"type"`
	Ref    string `json:"ref"`
	Digest string `json:"digest"`
	Via    string `json:"via"`
	// Handoff: crun was given sysgate's compiled program.
	Handoff bool `json:"handoff"`
}

// stopDaemons removes what is left and stops every daemon.
func stopDaemons() {
	daemons.Lock()
	defer daemons.Unlock()
	for _, d := range daemons.m {
		d.crictlErr("rmp", "-a", "-f")
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(20 * time.Second):
			d.cmd.Process.Kill()
			<-d.exited
		}
		for _, pid := range nodekit.ShimPids(d.sock) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		if d.helper != nil {
			d.helper.Stop()
		}
		if d.crunHelper != nil {
			d.crunHelper.Stop()
		}
		for _, m := range nodekit.MountsUnder(d.dir) {
			syscall.Unmount(m, syscall.MNT_DETACH)
		}
		if os.Getenv("SYSGATE_CRI_KEEP") == "" {
			os.RemoveAll(d.dir)
		}
	}
}
