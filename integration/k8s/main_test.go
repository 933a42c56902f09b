package k8s

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// EnvEnable turns the suite on; EnvBin names where hack/build-k8s.sh put
// the Kubernetes binaries and EnvCRIBin where make cri-deps put containerd
// 2.x (containerd2/).
const (
	EnvEnable        = "SYSGATE_K8S"
	EnvBin           = "SYSGATE_K8S_BIN"
	EnvCRIBin        = "SYSGATE_CRI_BIN"
	EnvKeep          = "SYSGATE_K8S_KEEP" // keep the cluster's directory for a post-mortem
	defaultBinDir    = "/var/cache/sysgate-k8s/bin"
	defaultCRIBinDir = "/var/cache/sysgate-cri/bin"
)

var (
	clusterOnce sync.Once
	theCluster  *cluster
	clusterErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if theCluster != nil {
		if err := theCluster.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the cluster:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// requireCluster skips unless the suite was asked for, and then starts the
// cluster once per test binary. Once asked for, a missing prerequisite is a
// failure, not a skip: make test-k8s must never pass by testing nothing.
func requireCluster(t testing.TB) *cluster {
	t.Helper()
	if os.Getenv(EnvEnable) != "1" {
		t.Skipf("Kubernetes suite skipped: set %s=1 or run `make test-k8s` (starts a private single-node cluster, needs root and the binaries hack/build-k8s.sh builds, takes minutes)", EnvEnable)
	}
	if os.Geteuid() != 0 {
		t.Fatal("the Kubernetes suite needs root")
	}
	clusterOnce.Do(func() { theCluster, clusterErr = startCluster(t) })
	if clusterErr != nil {
		t.Fatal(clusterErr)
	}
	return theCluster
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func k8sBin(name string) string { return filepath.Join(envOr(EnvBin, defaultBinDir), name) }

func containerdDir() string { return filepath.Join(envOr(EnvCRIBin, defaultCRIBinDir), "containerd2") }
