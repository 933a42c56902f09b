package k8s

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sysgate/sysgate/integration/helperproc"
	"github.com/sysgate/sysgate/integration/nodekit"
	"github.com/sysgate/sysgate/shim"
)

// The version hack/build-k8s.sh builds; the binaries must report it.
const k8sVersion = "v1.34.4"

// nodeName is the kubelet's --hostname-override: not the machine's name,
// so a leftover Node object can never be mistaken for a real one.
const nodeName = "sysgate-k8s-node"

// cluster is one private single-node Kubernetes. Everything lives under
// dir, so removal is one RemoveAll after the mounts are gone.
type cluster struct {
	dir    string
	nodeIP string
	ports  struct{ etcd, etcdPeer, api, controllerManager, scheduler, kubelet, kubeletHealthz int }

	tools       string // sysgate's binaries
	pki         string
	kubeconfigs string
	admin       string // the kubeconfig kubectl uses (system:masters)

	sock        string // containerd's
	kubeletRoot string // --root-dir; its seccomp/ is sysgate's profile_root
	profileRoot string
	policyPath  string
	decisionLog string
	cgroupRoot  string // the kubelet's cgroupRoot, under every v1 hierarchy
	bridge      string // the CNI bridge's interface, removed at stop

	procs      map[string]*proc
	helper     *helperproc.Process
	containerd *proc
	kubelet    *proc

	// What the kubelet changes outside its root dir, as it was before.
	sysctls   map[string]string
	hostPaths map[string]bool
}

// proc is a daemon the cluster started; its pid is the daemon's own.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
}

// kubeletSysctls are what the kubelet sets when protectKernelDefaults is
// false (pkg/kubelet/cm/container_manager_linux.go, setupKernelTunables).
var kubeletSysctls = []string{"vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops"}

// kubeletHostPaths are what the kubelet writes outside --root-dir
// (measured, /work/shared/notes/k8s.md): removed after the run when they
// were not there before.
var kubeletHostPaths = []string{"/var/lib/kubelet/device-plugins", "/var/lib/kubelet", "/var/log/containers", "/var/log/pods"}

func startCluster(t testing.TB) (c *cluster, err error) {
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kubectl", "kubeadm"} {
		if _, err := os.Stat(k8sBin(b)); err != nil {
			return nil, fmt.Errorf("%v: hack/build-k8s.sh builds it (make test-k8s runs it)", err)
		}
	}
	if out, err := exec.Command(k8sBin("kubelet"), "--version").Output(); err != nil || strings.TrimSpace(string(out)) != "Kubernetes "+k8sVersion {
		return nil, fmt.Errorf("kubelet --version: %q %v, want Kubernetes %s (hack/build-k8s.sh rebuilds)", out, err, k8sVersion)
	}
	if _, err := os.Stat(filepath.Join(containerdDir(), "containerd")); err != nil {
		return nil, fmt.Errorf("containerd 2.x: %v (make cri-deps builds it)", err)
	}
	// Short: containerd's and the shims' sockets are unix socket paths.
	dir, err := os.MkdirTemp("/tmp", "sgk8s-")
	if err != nil {
		return nil, err
	}
	c = &cluster{
		dir: dir, procs: map[string]*proc{},
		tools:       filepath.Join(dir, "bin"),
		pki:         filepath.Join(dir, "pki"),
		kubeconfigs: filepath.Join(dir, "kubeconfig"),
		sock:        filepath.Join(dir, "containerd.sock"),
		kubeletRoot: filepath.Join(dir, "kubelet"),
		policyPath:  filepath.Join(dir, "sysgate.toml"),
		decisionLog: filepath.Join(dir, "decisions.jsonl"),
		cgroupRoot:  "/" + filepath.Base(dir),
		sysctls:     map[string]string{},
		hostPaths:   map[string]bool{},
	}
	c.profileRoot = filepath.Join(c.kubeletRoot, "seccomp")
	c.admin = filepath.Join(c.kubeconfigs, "super-admin.conf")
	// From here on a failure stops what started, so that a failed start
	// leaves nothing behind either.
	defer func() {
		if err != nil {
			if stopErr := c.stop(); stopErr != nil {
				err = fmt.Errorf("%w (and stopping: %v)", err, stopErr)
			}
			c = nil
		}
	}()
	for _, s := range kubeletSysctls {
		data, err := os.ReadFile(filepath.Join("/proc/sys", s))
		if err != nil {
			return c, err
		}
		c.sysctls[s] = strings.TrimSpace(string(data))
	}
	for _, p := range kubeletHostPaths {
		_, err := os.Lstat(p)
		c.hostPaths[p] = err == nil
	}
	if c.nodeIP, err = nodeIP(); err != nil {
		return c, err
	}
	for _, p := range []*int{&c.ports.etcd, &c.ports.etcdPeer, &c.ports.api, &c.ports.controllerManager, &c.ports.scheduler, &c.ports.kubelet, &c.ports.kubeletHealthz} {
		if *p, err = freePort(); err != nil {
			return c, err
		}
	}
	for _, sub := range []string{"bin", "images", "logs", "pod-logs", "seccomp-off"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return c, err
		}
	}
	start := time.Now()
	if err := nodekit.BuildBinaries(c.tools); err != nil {
		return c, err
	}
	images, err := writeImages(filepath.Join(dir, "images"))
	if err != nil {
		return c, err
	}
	t.Logf("sysgate binaries and images built in %v", time.Since(start).Round(time.Millisecond))

	start = time.Now()
	if err := c.writePKI(); err != nil {
		return c, err
	}
	if err := c.startControlPlane(); err != nil {
		return c, err
	}
	t.Logf("control plane ready in %v (apiserver https://127.0.0.1:%d)", time.Since(start).Round(time.Millisecond), c.ports.api)

	start = time.Now()
	if err := c.writePolicy(""); err != nil {
		return c, err
	}
	if err := nodekit.WriteProfile(c.profileRoot, "profiles/audit.json", nodekit.AuditJSON()); err != nil {
		return c, err
	}
	if c.helper, err = helperproc.StartSupervised(filepath.Join(c.tools, "sysgate"), c.policyPath, filepath.Join(dir, "helper.sock")); err != nil {
		return c, err
	}
	if err := c.startContainerd(); err != nil {
		return c, err
	}
	for _, img := range images {
		if out, err := c.ctr("images", "import", img); err != nil {
			return c, fmt.Errorf("ctr images import %s: %v\n%s", img, err, out)
		}
	}
	if err := c.startKubelet(false); err != nil {
		return c, err
	}
	t.Logf("node Ready in %v", time.Since(start).Round(time.Millisecond))
	if err := c.applyRuntimeClasses(); err != nil {
		return c, err
	}
	// Pods need their namespace's default ServiceAccount, which the
	// controller manager creates some seconds after it starts.
	err = waitFor(2*time.Minute, func() (bool, string) {
		out, stderr, err := c.kubectl("get", "serviceaccount", "default", "-o", "name")
		return err == nil && strings.TrimSpace(out) == "serviceaccount/default", stderr
	})
	if err != nil {
		return c, fmt.Errorf("the default ServiceAccount: %v", err)
	}
	return c, nil
}

// nodeIP is the machine's first non-loopback IPv4 address: the kubelet
// refuses a loopback --node-ip.
func nodeIP() (string, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return "", err
	}
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := iface.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLinkLocalUnicast() {
				return ipn.IP.String(), nil
			}
		}
	}
	return "", errors.New("no non-loopback IPv4 address for the kubelet's --node-ip")
}

// freePort is a TCP port nobody listens on now. The daemons get ports
// chosen this way instead of their defaults (2379, 6443, 10250...), which
// another cluster on the machine may hold.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (c *cluster) spawn(name string, env []string, bin string, args ...string) (*proc, error) {
	p := &proc{name: name, logPath: filepath.Join(c.dir, "logs", name+".log"), exited: make(chan struct{})}
	logf, err := os.Create(p.logPath)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() { p.cmd.Wait(); logf.Close(); close(p.exited) }()
	c.procs[name] = p
	return p, nil
}

// stopProc ends p with SIGTERM, then SIGKILL after the grace period.
func stopProc(p *proc, grace time.Duration) {
	if p == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

func (p *proc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

func (p *proc) logTail() string {
	data, _ := os.ReadFile(p.logPath)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

// waitFor polls cond until it holds; the error carries cond's last note.
func waitFor(timeout time.Duration, cond func() (bool, string)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, note := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %v: %s", timeout, note)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// waitProc waits until cond holds or p exits.
func waitProc(p *proc, timeout time.Duration, cond func() (bool, string)) error {
	err := waitFor(timeout, func() (bool, string) {
		if !p.running() {
			return true, ""
		}
		return cond()
	})
	if !p.running() {
		return fmt.Errorf("%s exited at start:\n%s", p.name, p.logTail())
	}
	if err != nil {
		return fmt.Errorf("%s: %v\n%s", p.name, err, p.logTail())
	}
	return nil
}

func (c *cluster) kubectl(args ...string) (stdout, stderr string, err error) {
	return c.kubectlIn("", args...)
}

// kubectlIn runs kubectl with stdin (for `apply -f -`).
func (c *cluster) kubectlIn(stdin string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, k8sBin("kubectl"), append([]string{"--kubeconfig", c.admin}, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err = cmd.Run()
	return o.String(), e.String(), err
}

// mustKubectl runs kubectl and fails the test on error.
func (c *cluster) mustKubectl(t testing.TB, args ...string) string {
	t.Helper()
	out, stderr, err := c.kubectl(args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
	}
	return out
}

func (c *cluster) apply(t testing.TB, manifest string) {
	t.Helper()
	if out, stderr, err := c.kubectlIn(manifest, "apply", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v\n%s%s\n%s", err, out, stderr, manifest)
	}
}

// applyIn is `kubectl apply -n ns -f -`.
func (c *cluster) applyIn(t testing.TB, ns, manifest string) {
	t.Helper()
	if out, stderr, err := c.kubectlIn(manifest, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatalf("kubectl apply -n %s: %v\n%s%s\n%s", ns, err, out, stderr, manifest)
	}
}

func (c *cluster) ctr(args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(containerdDir(), "ctr"), append([]string{"--address", c.sock, "-n", "k8s.io"}, args...)...)
	return cmd.CombinedOutput()
}

// writePolicy is the node's sysgate policy: its profile_root is the
// kubelet's own seccomp root, so Localhost profiles resolve where the
// kubelet looks. sysgate-runc, the shim and the helper read it at every
// create, so a test may change it between Pods.
func (c *cluster) writePolicy(extra string) error {
	return os.WriteFile(c.policyPath, fmt.Appendf(nil, "runtime = %q\nprofile_root = %q\ncache_dir = %q\ndecision_log = %q\n%s\n",
		"/usr/sbin/runc", c.profileRoot, filepath.Join(c.dir, "bpf-cache"), c.decisionLog, extra), 0o644)
}

var serverLine = regexp.MustCompile(`(?m)^(\s*server:\s*)https://\S+$`)

// writePKI makes the certificates and kubeconfigs with kubeadm's phases
// (nothing else of kubeadm runs). kubeadm writes the advertise address into
// the components' kubeconfigs, but the apiserver listens on loopback only.
func (c *cluster) writePKI() error {
	cfg := fmt.Sprintf(`apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: %[1]s
  bindPort: %[2]d
nodeRegistration:
  name: %[3]s
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: %[4]s
controlPlaneEndpoint: 127.0.0.1:%[2]d
certificatesDir: %[5]s
networking:
  serviceSubnet: 10.96.0.0/16
apiServer:
  certSANs: [127.0.0.1, localhost, %[3]s]
`, c.nodeIP, c.ports.api, nodeName, k8sVersion, c.pki)
	cfgPath := filepath.Join(c.dir, "kubeadm.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"init", "phase", "certs", "all", "--config", cfgPath},
		{"init", "phase", "kubeconfig", "all", "--config", cfgPath, "--kubeconfig-dir", c.kubeconfigs},
	} {
		if out, err := exec.Command(k8sBin("kubeadm"), args...).CombinedOutput(); err != nil {
			return fmt.Errorf("kubeadm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	entries, err := os.ReadDir(c.kubeconfigs)
	if err != nil {
		return err
	}
	for _, e := range entries {
		path := filepath.Join(c.kubeconfigs, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		data = serverLine.ReplaceAll(data, []byte("${1}https://127.0.0.1:"+strconv.Itoa(c.ports.api)))
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func (c *cluster) startControlPlane() error {
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", c.ports.etcd)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", c.ports.etcdPeer)
	etcd, err := c.spawn("etcd", nil, k8sBin("etcd"), "--name", "default", "--data-dir", filepath.Join(c.dir, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL, "--initial-cluster", "default="+peerURL,
		// A test cluster: losing it on a power cut costs nothing, and fsync
		// on a disk four other engineers share costs seconds per write.
		"--unsafe-no-fsync")
	if err != nil {
		return err
	}
	err = waitProc(etcd, time.Minute, func() (bool, string) {
		out, err := exec.Command(k8sBin("etcdctl"), "--endpoints", etcdURL, "endpoint", "health").CombinedOutput()
		return err == nil, string(out)
	})
	if err != nil {
		return err
	}
	pki := func(name string) string { return filepath.Join(c.pki, name) }
	api, err := c.spawn("kube-apiserver", nil, k8sBin("kube-apiserver"),
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(c.ports.api), "--advertise-address="+c.nodeIP,
		"--etcd-servers="+etcdURL, "--allow-privileged=true",
		"--client-ca-file="+pki("ca.crt"), "--tls-cert-file="+pki("apiserver.crt"), "--tls-private-key-file="+pki("apiserver.key"),
		"--kubelet-client-certificate="+pki("apiserver-kubelet-client.crt"), "--kubelet-client-key="+pki("apiserver-kubelet-client.key"),
		"--kubelet-preferred-address-types=InternalIP",
		"--proxy-client-cert-file="+pki("front-proxy-client.crt"), "--proxy-client-key-file="+pki("front-proxy-client.key"),
		"--requestheader-client-ca-file="+pki("front-proxy-ca.crt"), "--requestheader-allowed-names=front-proxy-client",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-", "--requestheader-group-headers=X-Remote-Group",
		"--requestheader-username-headers=X-Remote-User",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+pki("sa.pub"), "--service-account-signing-key-file="+pki("sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16",
		"--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction")
	if err != nil {
		return err
	}
	err = waitProc(api, 3*time.Minute, func() (bool, string) {
		out, stderr, err := c.kubectl("get", "--raw", "/readyz")
		return err == nil && strings.TrimSpace(out) == "ok", out + stderr
	})
	if err != nil {
		return err
	}
	// kubeadm's certificates put admin.conf and the apiserver's client of
	// the kubelets (exec, logs) in group kubeadm:cluster-admins, which has
	// no rights until kubeadm's bootstrap phase binds it, which does not run
	// here.
	if out, stderr, err := c.kubectl("create", "clusterrolebinding", "kubeadm:cluster-admins",
		"--clusterrole=cluster-admin", "--group=kubeadm:cluster-admins"); err != nil {
		return fmt.Errorf("binding kubeadm:cluster-admins: %v\n%s%s", err, out, stderr)
	}
	kc := func(name string) string { return filepath.Join(c.kubeconfigs, name) }
	if _, err := c.spawn("kube-controller-manager", nil, k8sBin("kube-controller-manager"),
		"--kubeconfig="+kc("controller-manager.conf"), "--authentication-kubeconfig="+kc("controller-manager.conf"),
		"--authorization-kubeconfig="+kc("controller-manager.conf"),
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(c.ports.controllerManager),
		"--leader-elect=false", "--use-service-account-credentials=true", "--root-ca-file="+pki("ca.crt"),
		"--service-account-private-key-file="+pki("sa.key"),
		"--cluster-signing-cert-file="+pki("ca.crt"), "--cluster-signing-key-file="+pki("ca.key"),
		"--controllers=*,bootstrapsigner,tokencleaner", "--service-cluster-ip-range=10.96.0.0/16"); err != nil {
		return err
	}
	if _, err := c.spawn("kube-scheduler", nil, k8sBin("kube-scheduler"),
		"--kubeconfig="+kc("scheduler.conf"), "--authentication-kubeconfig="+kc("scheduler.conf"),
		"--authorization-kubeconfig="+kc("scheduler.conf"),
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(c.ports.scheduler), "--leader-elect=false"); err != nil {
		return err
	}
	return nil
}

// containerdConfig is the node's containerd 2.x: private root, state and
// sockets, NRI on (its default) with a private socket, a bridge CNI of its own
// (no host-network Pods), the locally built pause image pinned as the
// sandbox, and the deploy/ snippet's handlers (sysgate, sysgate-shim)
// beside plain runc. restrict_oom_score_adj: this machine's containerd
// cannot lower oom_score_adj.
var containerdConfig = `version = 3
root = "{dir}/containerd/root"
state = "{dir}/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.erofs"]
[grpc]
  address = "{sock}"
[ttrpc]
  address = "{sock}.ttrpc"
[plugins.'io.containerd.internal.v1.opt']
  path = "{dir}/containerd/opt"
[plugins.'io.containerd.nri.v1.nri']
  socket_path = "{dir}/nri.sock"
` + criPlugins

// bridgeCNI gives Pods their own network namespace (the seed's Pods do
// not ask for the host's): Debian's bridge and host-local plugins, on a
// bridge named after this cluster, with its address file under the
// cluster's directory. No gateway and no masquerading, so no iptables
// rules: the Pods reach nothing outside, which no test needs.
const bridgeCNI = `{"cniVersion":"1.0.0","name":"sgk8s","plugins":[{"type":"bridge","bridge":"{bridge}","isGateway":false,"ipMasq":false,
"ipam":{"type":"host-local","subnet":"{subnet}","dataDir":"{dir}/cni-ipam"}}]}`

func (c *cluster) startContainerd() error {
	snippet, err := os.ReadFile(filepath.Join("..", "..", "deploy", "containerd", "config-v3.toml"))
	if err != nil {
		return err
	}
	runtimePath := filepath.Join(c.tools, "sysgate-runc")
	handlers := strings.ReplaceAll(string(snippet), "/usr/local/bin/sysgate-runc", runtimePath)
	if !strings.Contains(handlers, runtimePath) {
		return errors.New("deploy/containerd/config-v3.toml does not name /usr/local/bin/sysgate-runc")
	}
	r := strings.NewReplacer("{dir}", c.dir, "{sock}", c.sock, "{pause}", pauseImage)
	config := r.Replace(containerdConfig) + "\n" + handlers
	if err := os.MkdirAll(filepath.Join(c.dir, "cni"), 0o755); err != nil {
		return err
	}
	// The bridge's name (at most 15 bytes) and subnet from the cluster's
	// directory name, so two clusters on one machine do not share them.
	n, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(c.dir), "sgk8s-"))
	c.bridge = fmt.Sprintf("sgk8s%d", n%100000)
	cni := strings.NewReplacer("{bridge}", c.bridge, "{subnet}", fmt.Sprintf("10.213.%d.0/24", n%250), "{dir}", c.dir).Replace(bridgeCNI)
	if err := os.WriteFile(filepath.Join(c.dir, "cni", "10-bridge.conflist"), []byte(cni), 0o644); err != nil {
		return err
	}
	configPath := filepath.Join(c.dir, "containerd.toml")
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		return err
	}
	return c.runContainerd()
}

// runContainerd starts containerd on its config. It finds the shims
// (containerd-shim-runc-v2 of its version, containerd-shim-sysgate-v1)
// through PATH, and they inherit its environment, which is how the policy
// and the helper's socket reach sysgate-runc and the sysgate shim.
func (c *cluster) runContainerd() error {
	p, err := c.spawn("containerd", []string{
		"PATH=" + containerdDir() + ":" + c.tools + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"SYSGATE_CONFIG=" + c.policyPath, shim.HelperSocketEnv + "=" + c.helper.Socket,
	}, filepath.Join(containerdDir(), "containerd"), "--config", filepath.Join(c.dir, "containerd.toml"))
	if err != nil {
		return err
	}
	c.containerd = p
	return waitProc(p, time.Minute, func() (bool, string) {
		out, err := c.ctr("version")
		return err == nil, string(out)
	})
}

// kubeletConfig: cgroupfs on this cgroup v1 machine, swap tolerated,
// webhook authn/authz against the cluster CA, no read-only port, its own
// ports, no image GC (the images are imported, never pulled), eviction
// only when the machine is nearly full, and the kubelet's cgroups under a
// parent of this cluster's own.
const kubeletConfig = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: {ip}
port: {port}
healthzBindAddress: 127.0.0.1
healthzPort: {healthz}
readOnlyPort: 0
cgroupDriver: cgroupfs
cgroupRoot: {cgroupRoot}
failSwapOn: false
containerRuntimeEndpoint: unix://{sock}
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: {ca}}
authorization:
  mode: Webhook
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
podLogsDir: {dir}/pod-logs
serializeImagePulls: false
maxPods: 110
seccompDefault: {seccompDefault}
`

// startKubelet starts the kubelet with --seccomp-default as asked and waits
// until the node is Ready. A running kubelet is stopped first: its Pods
// keep running, and the new one adopts them.
func (c *cluster) startKubelet(seccompDefault bool) error {
	if c.kubelet != nil {
		stopProc(c.kubelet, 30*time.Second)
	}
	for _, cg := range cgroupDirs(c.cgroupRoot) {
		if err := os.MkdirAll(cg, 0o755); err != nil {
			return err
		}
	}
	r := strings.NewReplacer("{ip}", c.nodeIP, "{port}", strconv.Itoa(c.ports.kubelet), "{healthz}", strconv.Itoa(c.ports.kubeletHealthz),
		"{cgroupRoot}", c.cgroupRoot, "{sock}", c.sock, "{ca}", filepath.Join(c.pki, "ca.crt"), "{dir}", c.dir,
		"{seccompDefault}", strconv.FormatBool(seccompDefault))
	configPath := filepath.Join(c.dir, "kubelet.yaml")
	if err := os.WriteFile(configPath, []byte(r.Replace(kubeletConfig)), 0o644); err != nil {
		return err
	}
	startedAt := time.Now()
	p, err := c.spawn("kubelet", nil, k8sBin("kubelet"), "--config", configPath,
		"--kubeconfig", filepath.Join(c.kubeconfigs, "kubelet.conf"), "--root-dir", c.kubeletRoot,
		"--cert-dir", filepath.Join(c.dir, "kubelet-pki"), "--node-ip", c.nodeIP, "--hostname-override", nodeName, "--v=2")
	if err != nil {
		return err
	}
	c.kubelet = p
	// Ready, and its heartbeat is this kubelet's: after a restart the Node
	// still says Ready from the kubelet before.
	return waitProc(p, 3*time.Minute, func() (bool, string) {
		out, stderr, err := c.kubectl("get", "node", nodeName, "-o",
			`jsonpath={range .status.conditions[?(@.type=="Ready")]}{.status} {.lastHeartbeatTime}{end}`)
		f := strings.Fields(out)
		if err != nil || len(f) != 2 || f[0] != "True" {
			return false, out + stderr
		}
		beat, err := time.Parse(time.RFC3339, f[1])
		return err == nil && !beat.Before(startedAt.Truncate(time.Second)), out
	})
}

// runtimeClasses: deploy/runtimeclass.yaml as shipped (sysgate and
// sysgate-shim, scheduled onto nodes the installer labelled), and a plain
// runc one for the side-by-side checks.
const runcRuntimeClass = `apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata:
  name: runc
handler: runc
`

func (c *cluster) applyRuntimeClasses() error {
	shipped, err := os.ReadFile(filepath.Join("..", "..", "deploy", "runtimeclass.yaml"))
	if err != nil {
		return err
	}
	for _, m := range []string{string(shipped), runcRuntimeClass} {
		if out, stderr, err := c.kubectlIn(m, "apply", "-f", "-"); err != nil {
			return fmt.Errorf("kubectl apply RuntimeClasses: %v\n%s%s", err, out, stderr)
		}
	}
	// What the installer's init container does once the handlers are in
	// containerd's config (deploy/daemonset.yaml); here the harness wrote
	// them.
	if out, stderr, err := c.kubectl("label", "node", nodeName, "--overwrite",
		"sysgate.io/handler-sysgate=true", "sysgate.io/handler-sysgate-shim=true"); err != nil {
		return fmt.Errorf("labelling the node: %v\n%s%s", err, out, stderr)
	}
	return nil
}

// cgroupDirs is path under every cgroup hierarchy mounted on
// /sys/fs/cgroup, the hybrid mode's unified one included (runc joins it
// too).
func cgroupDirs(path string) []string {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return []string{filepath.Join("/sys/fs/cgroup", path)} // cgroup v2 only
	}
	entries, _ := os.ReadDir("/sys/fs/cgroup")
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		out = append(out, filepath.Join("/sys/fs/cgroup", e.Name(), path))
	}
	return out
}

// criPlugins is the CRI part of both nodes' containerd configs, with
// Debian's CNI plugins and the node's own CNI config.
var criPlugins = nodekit.CRIPluginsV3("/usr/lib/cni", "{dir}/cni")
