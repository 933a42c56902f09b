package k8s

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sysgate/sysgate/integration/nodekit"
)

// stop ends the cluster and puts the machine back as it was: the Pods and
// their shims, the daemons, the mounts under dir, the kubelet's cgroups,
// the sysctls and host paths the kubelet touched. It reports what it could
// not put back.
func (c *cluster) stop() error {
	var errs []error
	// The kubelet first, so it does not restart what is being removed;
	// then every sandbox through the CRI while containerd still runs
	// (shims outlive containerd otherwise).
	stopProc(c.kubelet, 30*time.Second)
	if c.containerd != nil && c.containerd.running() {
		if out, err := c.crictl("rmp", "-a", "-f"); err != nil {
			errs = append(errs, fmt.Errorf("crictl rmp -a -f: %v\n%s", err, out))
		}
	}
	stopProc(c.containerd, 30*time.Second)
	for _, pid := range nodekit.ShimPids(c.sock) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if c.helper != nil {
		if err := c.helper.Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, name := range []string{"kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"} {
		stopProc(c.procs[name], 30*time.Second)
	}
	for _, m := range nodekit.MountsUnder(c.dir) {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			errs = append(errs, fmt.Errorf("unmount %s: %v", m, err))
		}
	}
	if c.bridge != "" {
		if out, err := exec.Command("ip", "link", "delete", c.bridge).CombinedOutput(); err != nil && !strings.Contains(string(out), "Cannot find device") {
			errs = append(errs, fmt.Errorf("ip link delete %s: %v %s", c.bridge, err, out))
		}
	}
	if err := removeCgroups(c.cgroupRoot); err != nil {
		errs = append(errs, err)
	}
	for s, v := range c.sysctls {
		if err := os.WriteFile(filepath.Join("/proc/sys", s), []byte(v), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restoring %s=%s: %v", s, v, err))
		}
	}
	errs = append(errs, c.restoreHostPaths()...)
	if err := removeUnlessKept(c.dir, "the cluster's"); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// removeUnlessKept removes dir, or keeps it for a post-mortem when
// EnvKeep is set and says where it is.
func removeUnlessKept(dir, whose string) error {
	if os.Getenv(EnvKeep) != "" {
		fmt.Fprintf(os.Stderr, "%s set: %s files stay in %s\n", EnvKeep, whose, dir)
		return nil
	}
	return os.RemoveAll(dir)
}

// crictl talks to the cluster's containerd. Its output is stdout; on an
// error, stderr follows it.
func (c *cluster) crictl(args ...string) ([]byte, error) {
	path := filepath.Join(envOr(EnvCRIBin, defaultCRIBinDir), "crictl")
	cmd := exec.Command(path, append([]string{"--runtime-endpoint", "unix://" + c.sock, "--timeout", "2m"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		out = append(out, stderr.Bytes()...)
	}
	return out, err
}

// restoreHostPaths removes what the kubelet made outside its root dir,
// only where it was not there before the cluster, and only what points
// into this cluster (another kubelet on the machine may share the paths).
func (c *cluster) restoreHostPaths() []error {
	var errs []error
	if !c.hostPaths["/var/log/containers"] {
		// Symlinks to the cluster's Pod logs.
		entries, _ := os.ReadDir("/var/log/containers")
		for _, e := range entries {
			p := filepath.Join("/var/log/containers", e.Name())
			if target, err := os.Readlink(p); err == nil && strings.HasPrefix(target, c.dir+"/") {
				os.Remove(p)
			}
		}
		if err := removeIfEmpty("/var/log/containers"); err != nil {
			errs = append(errs, err)
		}
	}
	if !c.hostPaths["/var/lib/kubelet/device-plugins"] {
		// The kubelet's device-plugin registration socket and checkpoint.
		for _, name := range []string{"kubelet.sock", "kubelet_internal_checkpoint"} {
			os.Remove(filepath.Join("/var/lib/kubelet/device-plugins", name))
		}
		if err := removeIfEmpty("/var/lib/kubelet/device-plugins"); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range []string{"/var/lib/kubelet", "/var/log/pods"} {
		if !c.hostPaths[p] {
			if err := removeIfEmpty(p); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

func removeIfEmpty(dir string) error {
	err := syscall.Rmdir(dir)
	if err == nil || errors.Is(err, syscall.ENOENT) {
		return nil
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return fmt.Errorf("the kubelet left %s behind, holding %v: %v", dir, names, err)
}

// removeCgroups removes root's cgroups in every hierarchy, children first.
func removeCgroups(root string) error {
	var errs []error
	for _, top := range cgroupDirs(root) {
		var dirs []string
		filepath.WalkDir(top, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		slices.Reverse(dirs)
		for _, d := range dirs {
			// A cgroup whose last task just exited can be busy a moment.
			var err error
			for i := 0; i < 50; i++ {
				if err = syscall.Rmdir(d); err == nil || errors.Is(err, syscall.ENOENT) {
					err = nil
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("rmdir cgroup %s: %v", d, err))
			}
		}
	}
	return errors.Join(errs...)
}
