package k8s

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sysgate/sysgate/integration/nodekit"
	"golang.org/x/sys/unix"
)

// sdNodeName is the second node, the one whose PID 1 is systemd: what the
// DaemonSet installer needs (it restarts containerd and the helper through
// PID 1's namespaces with systemctl) and writes (the node's /usr/local/bin,
// /etc, /var/lib/kubelet/seccomp), kept off this shared host the way kind
// keeps it off a developer's machine.
const sdNodeName = "sysgate-node-sd"

// sdNodeTaint keeps the other tests' Pods off this node: they check their
// containers through the first node's containerd. The installer DaemonSet
// tolerates every taint, and the tests' own Pods here tolerate this one.
const sdNodeTaint = "sysgate.io/test-node=systemd:NoSchedule"

// sdNodePaths are the paths the installer and the node write, each a
// private directory bound over the host's in the node's mount namespace.
// /var/lib/containerd holds overlay snapshots, so its directory is on the
// host's ext4 (under /tmp), not on an overlay. /var/lib/systemd is systemd's
// own state, /var/log/pods and /var/log/containers the kubelet's.
var sdNodePaths = []string{
	"/usr/local/bin", "/etc/sysgate", "/etc/containerd", "/etc/systemd/system",
	"/var/lib/sysgate", "/var/lib/kubelet", "/var/lib/containerd", "/var/lib/systemd",
	"/run", "/var/log/sysgate", "/var/log/pods", "/var/log/containers", "/var/cache/sysgate",
}

// sdNodeSysctls are the machine-wide settings systemd as PID 1 raises when
// it finds them lower (fs.file-max, fs.nr_open, net.unix.max_dgram_qlen on
// the shared network namespace), and the kubelet's: put back at stop.
var sdNodeSysctls = append([]string{"fs/file-max", "fs/nr_open", "net/unix/max_dgram_qlen"}, kubeletSysctls...)

// sdNode is a Kubernetes node in a container whose PID 1 is systemd 252:
// its own mount, PID, UTS and cgroup namespaces, the host's network. Its
// containerd and kubelet are systemd units of its own; the shared
// cluster's control plane is its apiserver.
type sdNode struct {
	c      *cluster
	dir    string            // /tmp/sgnode-*: everything of this node
	fs     map[string]string // node path -> the private directory bound there
	made   []string          // mount points this node created on the host (absent before)
	cgroup string            // its cgroup, under every hierarchy
	bridge string
	ports  struct{ kubelet, healthz, metrics int }

	unshare *exec.Cmd // `unshare --fork`, whose child is the node's systemd
	console *console
	exited  chan struct{}
	pid1    int // systemd, as the host sees it

	sysctls map[string]string
}

func (n *sdNode) path(nodePath string) string {
	for _, p := range sdNodePaths {
		if nodePath == p || strings.HasPrefix(nodePath, p+"/") {
			return filepath.Join(n.fs[p], strings.TrimPrefix(nodePath, p))
		}
	}
	panic(nodePath + " is not one of the node's private paths")
}

func (n *sdNode) sock() string { return n.path("/run/containerd/containerd.sock") }

// view reaches the node's containerd through its socket (in the private
// /run) and its /proc through systemd's root.
func (n *sdNode) view() nodeView {
	return nodeView{name: sdNodeName, crictl: n.crictl, proc: fmt.Sprintf("/proc/%d/root/proc", n.pid1)}
}

func (n *sdNode) crictl(args ...string) ([]byte, error) {
	path := filepath.Join(envOr(EnvCRIBin, defaultCRIBinDir), "crictl")
	cmd := exec.Command(path, append([]string{"--runtime-endpoint", "unix://" + n.sock(), "--timeout", "2m"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		out = append(out, stderr.Bytes()...)
	}
	return out, err
}

func (n *sdNode) ctr(args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(containerdDir(), "ctr"), append([]string{"--address", n.sock(), "-n", "k8s.io"}, args...)...)
	return cmd.CombinedOutput()
}

// systemctl runs systemctl in the node, as install.sh does (nsenter into
// PID 1's namespaces).
func (n *sdNode) systemctl(args ...string) (string, error) {
	out, err := exec.Command("nsenter", append([]string{"-t", strconv.Itoa(n.pid1), "-m", "-u", "-i", "-n", "-p", "--", "systemctl"}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// unitProp is one property of a unit (`systemctl show -p`).
func (n *sdNode) unitProp(unit, prop string) string {
	out, _ := n.systemctl("show", "-p", prop, "--value", unit)
	return out
}

// The node's units. Both without default dependencies: the node boots
// nothing but them (sysinit.target's units are the host's and are masked,
// sdNodeMasks). containerd's is containerd's own unit's essentials:
// KillMode=process is what lets running Pods survive a restart (the shims
// stay in the unit's cgroup and are not signalled), Delegate=yes gives it its
// cgroups, Type=notify makes `systemctl restart` wait until it serves.
const sdNodeTarget = `[Unit]
Description=sysgate test node: containerd and the kubelet
Wants=containerd.service kubelet.service
`

const sdContainerdUnit = `[Unit]
Description=containerd (sysgate test node)
DefaultDependencies=no

[Service]
Environment=PATH={containerdDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ExecStart={containerdDir}/containerd --config /etc/containerd/config.toml
Type=notify
Delegate=yes
KillMode=process
Restart=always
RestartSec=2
StandardOutput=append:{dir}/logs/containerd.log
StandardError=inherit
`

const sdKubeletUnit = `[Unit]
Description=kubelet (sysgate test node)
DefaultDependencies=no
Wants=containerd.service
After=containerd.service

[Service]
ExecStart={kubelet} --config {dir}/kubelet.yaml --kubeconfig {dir}/kubelet.conf --node-ip {ip} --hostname-override {name} --register-with-taints {taint} --v=2
Restart=always
RestartSec=2
StandardOutput=append:{dir}/logs/kubelet.log
StandardError=inherit
`

// sdNodeMasks: every unit the host's systemd would start on the way to
// sysinit.target and basic.target (which the installer's sysgate-helper
// unit pulls in through its default dependencies) is the host's own boot:
// systemd-sysctl (machine-wide sysctls), systemd-tmpfiles-setup (the
// host's /tmp and /var), udev, journald, binfmt, modules. In the node they
// are masked; the list is read from the host's unit directory at start.
var sdNodeMaskDirs = []string{"sysinit.target.wants", "sockets.target.wants", "basic.target.wants", "timers.target.wants",
	"paths.target.wants", "local-fs.target.wants", "slices.target.wants", "remote-fs.target.wants"}

// The node's containerd 2.x as a node's own: default root, state and
// socket (its private /var/lib/containerd and /run), no sysgate handler
// (the installer adds them), a bridge CNI of its own, and its opt plugin's
// directory under the node's (its default, /opt/containerd, is the host's).
var sdContainerdConfig = `version = 3
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.erofs"]
[plugins.'io.containerd.internal.v1.opt']
  path = '{dir}/opt'
` + criPlugins

// The node's PID 1 before systemd: in the new namespaces (mount
// propagation private, so nothing here reaches the host), it binds the
// private directories, mounts a /proc of its PID namespace and the cgroup
// hierarchies as its cgroup namespace shows them, hides the host's unit
// generators (fstab, getty, sysv...), gives it a console of its own (a
// pseudo-terminal: systemd logs to /dev/console only when it is a
// terminal), and becomes systemd.
const sdNodeInit = `set -eu
{binds}
mount -t proc proc /proc
mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
{cgroups}
mount --bind {dir}/empty /usr/lib/systemd/system-generators
mount --bind {console} /dev/console
exec env -i container=sysgate-test-node PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  /lib/systemd/systemd --unit=sysgate-node.target --log-target=console --log-level=info --show-status=false
`

func startSDNode(t testing.TB, c *cluster) (n *sdNode, err error) {
	dir, err := os.MkdirTemp("/tmp", "sgnode-")
	if err != nil {
		return nil, err
	}
	n = &sdNode{c: c, dir: dir, fs: map[string]string{}, cgroup: "/" + filepath.Base(dir), sysctls: map[string]string{}, exited: make(chan struct{})}
	defer func() {
		if err != nil {
			if stopErr := n.stop(); stopErr != nil {
				err = fmt.Errorf("%w (and stopping the node: %v)", err, stopErr)
			}
			n = nil
		}
	}()
	for _, s := range sdNodeSysctls {
		data, err := os.ReadFile(filepath.Join("/proc/sys", s))
		if err != nil {
			return n, err
		}
		n.sysctls[s] = strings.TrimSpace(string(data))
	}
	for _, sub := range []string{"logs", "empty", "cni"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return n, err
		}
	}
	var binds strings.Builder
	for _, p := range sdNodePaths {
		private := filepath.Join(dir, "fs", strings.ReplaceAll(strings.TrimPrefix(p, "/"), "/", "_"))
		if err := os.MkdirAll(private, 0o755); err != nil {
			return n, err
		}
		n.fs[p] = private
		// A bind needs a mount point: made on the host only where there is
		// none, empty, and removed at stop.
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			if err := os.Mkdir(p, 0o755); err != nil {
				return n, err
			}
			n.made = append(n.made, p)
		}
		fmt.Fprintf(&binds, "mount --bind %s %s\n", private, p)
	}
	for _, p := range []*int{&n.ports.kubelet, &n.ports.healthz, &n.ports.metrics} {
		if *p, err = freePort(); err != nil {
			return n, err
		}
	}
	if err := n.writeConfig(); err != nil {
		return n, err
	}

	// Its own cgroup in every hierarchy, entered before the cgroup
	// namespace is made, so that the namespace's root is this cgroup.
	hierarchies, err := cgroupHierarchies()
	if err != nil {
		return n, err
	}
	var join, mounts strings.Builder
	for _, h := range hierarchies {
		cg := filepath.Join("/sys/fs/cgroup", h.dir, n.cgroup)
		if err := os.Mkdir(cg, 0o755); err != nil {
			return n, err
		}
		if h.dir == "cpuset" {
			// An empty cpuset takes no task: the parent's CPUs and nodes.
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				data, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/cpuset", f))
				if err != nil {
					return n, err
				}
				if err := os.WriteFile(filepath.Join(cg, f), data, 0o644); err != nil {
					return n, err
				}
			}
		}
		fmt.Fprintf(&join, "echo $$ > %s/cgroup.procs\n", cg)
		fmt.Fprintf(&mounts, "mkdir -p /sys/fs/cgroup/%s\nmount -t %s -o %s cgroup /sys/fs/cgroup/%[1]s\n", h.dir, h.fstype, h.options)
	}
	if n.console, err = openConsole(filepath.Join(dir, "logs", "console.log")); err != nil {
		return n, err
	}
	init := strings.NewReplacer("{binds}", binds.String(), "{cgroups}", mounts.String(), "{dir}", dir, "{console}", n.console.slave.Name()).Replace(sdNodeInit)
	if err := os.WriteFile(filepath.Join(dir, "init.sh"), []byte(init), 0o755); err != nil {
		return n, err
	}
	logf, err := os.Create(filepath.Join(dir, "logs", "unshare.log"))
	if err != nil {
		return n, err
	}
	n.unshare = exec.Command("/bin/sh", "-c", join.String()+
		"exec unshare --mount --pid --cgroup --uts --fork --kill-child --propagation private /bin/sh "+filepath.Join(dir, "init.sh"))
	n.unshare.Stdout, n.unshare.Stderr = logf, logf
	// Its own session: a signal to the test's process group (^C) does not
	// reach the node's systemd, which stop() ends properly.
	n.unshare.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := n.unshare.Start(); err != nil {
		logf.Close()
		return n, err
	}
	go func() { n.unshare.Wait(); logf.Close(); close(n.exited) }()

	start := time.Now()
	err = waitFor(time.Minute, func() (bool, string) {
		if !n.running() {
			return true, ""
		}
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", n.unshare.Process.Pid, n.unshare.Process.Pid))
		pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		if pid == 0 {
			return false, "no child of unshare yet"
		}
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if strings.TrimSpace(string(comm)) != "systemd" {
			return false, "PID 1 is " + string(comm)
		}
		n.pid1 = pid
		state, _ := n.systemctl("is-active", "containerd.service")
		return state == "active", "containerd.service: " + state
	})
	if !n.running() {
		return n, fmt.Errorf("the node's systemd exited at start:\n%s", n.logs())
	}
	if err != nil {
		return n, fmt.Errorf("the node's containerd: %v\n%s", err, n.logs())
	}
	t.Logf("node %s: systemd is PID 1 (host PID %d), containerd active in %v", sdNodeName, n.pid1, time.Since(start).Round(time.Millisecond))
	for _, img := range []string{"pause", "app", "busybox", "installer"} {
		if out, err := n.ctr("images", "import", filepath.Join(c.dir, "images", img+".oci.tar")); err != nil {
			return n, fmt.Errorf("ctr images import %s: %v\n%s", img, err, out)
		}
	}
	err = waitFor(3*time.Minute, func() (bool, string) {
		out, stderr, err := c.kubectl("get", "node", sdNodeName, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		return err == nil && out == "True", out + stderr
	})
	if err != nil {
		return n, fmt.Errorf("node %s Ready: %v\n%s", sdNodeName, err, n.logs())
	}
	t.Logf("node %s Ready %v after its systemd started", sdNodeName, time.Since(start).Round(time.Millisecond))
	return n, nil
}

// writeConfig writes the node's units, masks, containerd config, CNI
// config, kubelet config and the kubelet's credentials.
func (n *sdNode) writeConfig() error {
	c := n.c
	units := n.fs["/etc/systemd/system"]
	r := strings.NewReplacer("{containerdDir}", containerdDir(), "{dir}", n.dir, "{kubelet}", k8sBin("kubelet"),
		"{ip}", c.nodeIP, "{name}", sdNodeName, "{taint}", sdNodeTaint, "{pause}", pauseImage)
	for name, text := range map[string]string{"sysgate-node.target": sdNodeTarget, "containerd.service": sdContainerdUnit, "kubelet.service": sdKubeletUnit} {
		if err := os.WriteFile(filepath.Join(units, name), []byte(r.Replace(text)), 0o644); err != nil {
			return err
		}
	}
	for _, d := range sdNodeMaskDirs {
		entries, _ := os.ReadDir(filepath.Join("/lib/systemd/system", d))
		for _, e := range entries {
			if err := os.Symlink("/dev/null", filepath.Join(units, e.Name())); err != nil && !os.IsExist(err) {
				return err
			}
		}
	}
	if err := os.MkdirAll(n.fs["/etc/containerd"], 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(n.fs["/etc/containerd"], "config.toml"), []byte(r.Replace(sdContainerdConfig)), 0o644); err != nil {
		return err
	}
	num, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(n.dir), "sgnode-"))
	n.bridge = fmt.Sprintf("sgnode%d", num%100000)
	cni := strings.NewReplacer("{bridge}", n.bridge, "{subnet}", fmt.Sprintf("10.214.%d.0/24", num%250), "{dir}", n.dir).Replace(bridgeCNI)
	if err := os.WriteFile(filepath.Join(n.dir, "cni", "10-bridge.conflist"), []byte(cni), 0o644); err != nil {
		return err
	}
	kr := strings.NewReplacer("{ip}", c.nodeIP, "{port}", strconv.Itoa(n.ports.kubelet), "{healthz}", strconv.Itoa(n.ports.healthz),
		"{cgroupRoot}", "/", "{sock}", "/run/containerd/containerd.sock", "{ca}", filepath.Join(c.pki, "ca.crt"), "{dir}", n.dir,
		"{seccompDefault}", "false")
	kubelet := strings.Replace(kr.Replace(kubeletConfig), "podLogsDir: "+n.dir+"/pod-logs\n", "", 1)
	if err := os.WriteFile(filepath.Join(n.dir, "kubelet.yaml"), []byte(kubelet), 0o644); err != nil {
		return err
	}
	// The kubelet's own credentials, system:node:<name> in system:nodes,
	// so that the Node authorizer and NodeRestriction treat it as a node.
	out, err := exec.Command(k8sBin("kubeadm"), "kubeconfig", "user", "--config", filepath.Join(c.dir, "kubeadm.yaml"),
		"--client-name", "system:node:"+sdNodeName, "--org", "system:nodes").Output()
	if err != nil {
		return fmt.Errorf("kubeadm kubeconfig user: %v", err)
	}
	out = serverLine.ReplaceAll(out, []byte("${1}https://127.0.0.1:"+strconv.Itoa(c.ports.api)))
	return os.WriteFile(filepath.Join(n.dir, "kubelet.conf"), out, 0o600)
}

// hierarchy is one cgroup file system mounted under /sys/fs/cgroup.
type hierarchy struct{ dir, fstype, options string }

// cgroupHierarchies reads the host's: each v1 controller (and
// name=systemd) and the hybrid mode's unified cgroup2, to be mounted alike
// in the node's cgroup namespace.
func cgroupHierarchies() ([]hierarchy, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var out []hierarchy
	for _, line := range strings.Split(string(data), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 3 || !strings.HasPrefix(f[4], "/sys/fs/cgroup/") {
			continue
		}
		h := hierarchy{dir: strings.TrimPrefix(f[4], "/sys/fs/cgroup/"), fstype: g[0]}
		switch g[0] {
		case "cgroup2":
			h.options = "rw"
		case "cgroup":
			var opts []string
			for _, o := range strings.Split(g[2], ",") {
				if o != "rw" && o != "ro" {
					opts = append(opts, o)
				}
			}
			if slices.ContainsFunc(opts, func(o string) bool { return strings.HasPrefix(o, "name=") }) {
				opts = append([]string{"none"}, opts...)
			}
			h.options = strings.Join(opts, ",")
		default:
			continue
		}
		out = append(out, h)
	}
	if len(out) == 0 {
		// A cgroup2-only host mounts its one hierarchy on /sys/fs/cgroup
		// itself; this node is built for the v1 and hybrid layouts this
		// CI machine has, and says so rather than half-working.
		return nil, errors.New("no cgroup hierarchy below /sys/fs/cgroup: the systemd test node needs a cgroup v1 or hybrid host (cgroup2-only is not supported by sdnode_test.go yet)")
	}
	return out, nil
}

func (n *sdNode) running() bool {
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

// logs is the tail of what the node said: systemd's console, containerd's
// and the kubelet's logs.
func (n *sdNode) logs() string {
	var b strings.Builder
	for _, f := range []string{"unshare.log", "console.log", "containerd.log", "kubelet.log"} {
		data, _ := os.ReadFile(filepath.Join(n.dir, "logs", f))
		if len(data) > 3000 {
			data = data[len(data)-3000:]
		}
		fmt.Fprintf(&b, "--- %s:\n%s\n", f, data)
	}
	return b.String()
}

// stop ends the node and checks that nothing of it is left: its units,
// its PID namespace, then the cgroups, the bridge, the Node object, the
// sysctls and the mount points it made (which must be empty: anything in
// one was written through the host's path).
func (n *sdNode) stop() error {
	var errs []error
	if n.unshare != nil && n.unshare.Process != nil && n.running() {
		if n.pid1 != 0 {
			// The units one by one, the mounts left in place: the kubelet,
			// then every Pod through the CRI (the CNI plugin releases its
			// addresses, the shims exit), then containerd.
			if out, err := n.systemctl("stop", "kubelet.service"); err != nil {
				errs = append(errs, fmt.Errorf("node %s: systemctl stop kubelet: %v %s", sdNodeName, err, out))
			}
			if out, err := n.crictl("rmp", "-a", "-f"); err != nil {
				errs = append(errs, fmt.Errorf("node %s: crictl rmp -a -f: %v\n%s", sdNodeName, err, out))
			}
			if out, err := n.systemctl("stop", "containerd.service"); err != nil {
				errs = append(errs, fmt.Errorf("node %s: systemctl stop containerd: %v %s", sdNodeName, err, out))
			}
			// Then SIGKILL to its PID 1, which ends the PID namespace (the
			// kernel kills what is left in it) and so the mount namespace.
			// Not systemd's own poweroff: that unmounts every mount it sees,
			// the private binds included, while units still run, and a
			// process writing then would write into the host's directory
			// under the bind (seen: the kubelet made a Pod log directory
			// in the host's /var/log/pods).
			syscall.Kill(n.pid1, syscall.SIGKILL)
		} else {
			// systemd never started: unshare --kill-child takes its child along.
			n.unshare.Process.Kill()
		}
		select {
		case <-n.exited:
		case <-time.After(60 * time.Second):
			errs = append(errs, fmt.Errorf("node %s: still running 60 s after SIGKILL\n%s", sdNodeName, n.logs()))
			n.unshare.Process.Kill()
			<-n.exited
		}
	}
	if n.console != nil {
		n.console.close()
	}
	// The cgroups empty once the PID namespace is gone.
	if err := waitFor(30*time.Second, func() (bool, string) {
		left := cgroupTasks(n.cgroup)
		return len(left) == 0, fmt.Sprintf("tasks left in %s: %v", n.cgroup, left)
	}); err != nil {
		errs = append(errs, err)
	}
	if err := removeCgroups(n.cgroup); err != nil {
		errs = append(errs, err)
	}
	if n.bridge != "" {
		if out, err := exec.Command("ip", "link", "delete", n.bridge).CombinedOutput(); err != nil && !strings.Contains(string(out), "Cannot find device") {
			errs = append(errs, fmt.Errorf("ip link delete %s: %v %s", n.bridge, err, out))
		}
	}
	if n.c != nil {
		n.c.kubectl("delete", "node", sdNodeName, "--wait=false")
	}
	for s, v := range n.sysctls {
		if err := os.WriteFile(filepath.Join("/proc/sys", s), []byte(v), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restoring %s=%s: %v", s, v, err))
		}
	}
	// Nothing of the node is mounted on the host: every mount was made in
	// its own mount namespace.
	if m := nodekit.MountsUnder(n.dir); len(m) > 0 {
		errs = append(errs, fmt.Errorf("mounts of the node on the host: %v", m))
	}
	for _, p := range slices.Backward(n.made) {
		if err := syscall.Rmdir(p); err != nil {
			errs = append(errs, fmt.Errorf("the node's mount point %s (absent before): %v", p, err))
		}
	}
	if err := removeUnlessKept(n.dir, "the node's"); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// cgroupTasks are the processes in root's cgroups, any hierarchy.
func cgroupTasks(root string) []string {
	var out []string
	for _, top := range cgroupDirs(root) {
		filepath.WalkDir(top, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.Name() == "cgroup.procs" {
				data, _ := os.ReadFile(path)
				for _, pid := range strings.Fields(string(data)) {
					out = append(out, pid+" in "+filepath.Dir(path))
				}
			}
			return nil
		})
	}
	return out
}

// console is the node's /dev/console: a pseudo-terminal whose output the
// test copies into a log file. The test holds the terminal's side open
// too, so that systemd reopening it never hangs the pair up.
type console struct {
	master, slave *os.File
	done          chan struct{}
}

func openConsole(logPath string) (*console, error) {
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, fmt.Errorf("unlocking the console's pseudo-terminal: %v", err)
	}
	num, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, err
	}
	slave, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", num), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		master.Close()
		slave.Close()
		return nil, err
	}
	c := &console{master: master, slave: slave, done: make(chan struct{})}
	go func() {
		io.Copy(logf, master)
		logf.Close()
		close(c.done)
	}()
	return c, nil
}

func (c *console) close() {
	c.slave.Close()
	c.master.Close()
	<-c.done
}
