# make test-k8s: the Kubernetes tier (integration/k8s). It builds Kubernetes
# $(K8S_VERSION) (apiserver, controller manager, scheduler, kubelet, kubectl,
# kubeadm for the certificates) and etcd $(ETCD_VERSION) from the Go module
# proxy into $(K8S_CACHE)/bin with hack/build-k8s.sh, reused while they
# report the right version, then starts a private single-node cluster on
# containerd 2.x (make cri-deps) and drives it with kubectl; it needs root.
# Plain `go test ./...` skips the suite at once unless SYSGATE_K8S=1 (see
# integration/k8s/doc.go). TestInstallerDaemonSet runs the DaemonSet
# installer on a second node whose PID 1 is systemd (the host's systemd,
# in its own namespaces; util-linux's unshare and nsenter). Times:
# docs/kubernetes.md.
K8S_VERSION ?= v1.34.4
ETCD_VERSION ?= v3.6.16
K8S_CACHE ?= /var/cache/sysgate-k8s
K8S_BENCHTIME ?= 20x

.PHONY: test-k8s k8s-deps bench-k8s

k8s-deps: cri-deps
	@hack/apt-ensure.sh containernetworking-plugins systemd util-linux busybox-static
	@K8S_VERSION=$(K8S_VERSION) ETCD_VERSION=$(ETCD_VERSION) K8S_CACHE=$(K8S_CACHE) hack/build-k8s.sh

test-k8s: k8s-deps
	SYSGATE_K8S=1 SYSGATE_K8S_BIN=$(K8S_CACHE)/bin SYSGATE_CRI_BIN=$(CRI_BIN) $(GO) test -count=1 -timeout 40m -v ./integration/k8s/

# Pod startup p50/p99 through the whole cluster, sysgate's handlers as
# ratios to plain runc; a benchmark, not a test.
bench-k8s: k8s-deps
	SYSGATE_K8S=1 SYSGATE_K8S_BIN=$(K8S_CACHE)/bin SYSGATE_CRI_BIN=$(CRI_BIN) $(GO) test -count=1 -timeout 40m -run '^$$' -bench BenchmarkPodStartup -benchtime $(K8S_BENCHTIME) ./integration/k8s/
