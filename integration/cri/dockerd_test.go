package cri

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sysgate/sysgate/integration/nodekit"
)

// startDockerd runs a private dockerd from Debian's docker.io: its own
// config file, data and exec roots and socket under dir, no iptables, no
// bridge, its own containerd namespaces. policy reaches sysgate-runc
// through dockerd's environment, which containerd's shim passes on. It
// returns a docker CLI bound to that daemon.
func startDockerd(t *testing.T, dir, conf, policy string) func(args ...string) (string, error) {
	t.Helper()
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		t.Fatal("dockerd is not installed (apt-get install docker.io)")
	}
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Fatal("docker CLI is not installed (apt-get install docker.io)")
	}
	sock := filepath.Join(dir, "docker.sock")
	logf, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	d := exec.Command(dockerd, "--config-file", conf, "--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"), "-H", "unix://"+sock, "--iptables=false", "--ip6tables=false", "--bridge=none",
		"--containerd-namespace", "sgdock", "--containerd-plugins-namespace", "sgdock-plugins")
	d.Env = append(os.Environ(), "SYSGATE_CONFIG="+policy, "SYSGATE_HELPER_SOCKET=")
	d.Stdout, d.Stderr = logf, logf
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { d.Wait(); close(exited) }()
	t.Cleanup(func() {
		d.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			d.Process.Kill()
			<-exited
		}
		for _, m := range nodekit.MountsUnder(dir) {
			syscall.Unmount(m, syscall.MNT_DETACH)
		}
		if os.Getenv("SYSGATE_CRI_KEEP") == "" {
			os.RemoveAll(dir)
		}
	})
	cli := func(args ...string) (string, error) {
		out, err := exec.Command(docker, append([]string{"-H", "unix://" + sock}, args...)...).CombinedOutput()
		return string(out), err
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		if _, err := cli("info"); err == nil {
			return cli
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("dockerd exited:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("dockerd did not answer:\n%s", log)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// importBusybox makes the image sysgate.test/busybox-docker:1: static
// busybox alone, imported as one layer (no registry is reachable).
func importBusybox(t *testing.T, dir string, cli func(args ...string) (string, error)) {
	t.Helper()
	rootfs := filepath.Join(dir, "rootfs.tar")
	r := filepath.Join(dir, "rootfs")
	if out, err := exec.Command("sh", "-c", "mkdir -p "+r+"/bin "+r+"/proc "+r+"/tmp "+r+"/dev "+r+"/sys "+r+"/etc && cp /bin/busybox "+r+"/bin/ && tar -C "+r+" -cf "+rootfs+" .").CombinedOutput(); err != nil {
		t.Fatalf("busybox rootfs: %v\n%s", err, out)
	}
	if out, err := cli("import", rootfs, "sysgate.test/busybox-docker:1"); err != nil {
		t.Fatalf("docker import: %v\n%s", err, out)
	}
}
