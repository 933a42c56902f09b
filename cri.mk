# make test-cri: the CRI end-to-end suite (integration/cri) and the deploy/
# manifest checks. It starts private containerd daemons (Debian's 1.6 and
# containerd 2.x built from the Go module proxy), drives them with crictl,
# and runs podman and a private dockerd; it needs root. Plain `go test ./...` skips the suite at
# once unless SYSGATE_CRI=1 (see integration/cri/doc.go).
#
# Tools go to $(CRI_BIN), outside the repository: crictl, and containerd,
# ctr and containerd-shim-runc-v2 of $(CONTAINERD2_VERSION) in containerd2/.
CRI_BIN ?= /var/cache/sysgate-cri/bin
CONTAINERD2_VERSION ?= v2.4.2
# The newest cri-tools at the time of writing; it builds with Go 1.26.
CRICTL_VERSION ?= v1.37.0
CRI_BENCHTIME ?= 10x

.PHONY: test-cri cri-deps bench-cri soak

# 100 Pods at a time churned through containerd 2.x's CRI on the sysgate
# handler for SOAK_TIME (30m): the helper's descriptors and memory, the
# cache and the decision log's rotation (integration/cri/soak_test.go).
SOAK_TIME ?= 30m

cri-deps: deps
	@hack/apt-ensure.sh containerd podman docker.io
	@# go install leaves the binaries' own version strings empty ("unknown");
	@# the module version go records in them tells whether they are current.
	@$(GO) version -m $(CRI_BIN)/crictl 2>/dev/null | grep -qE '^\s+mod\s+sigs.k8s.io/cri-tools\s+$(CRICTL_VERSION)\s' || { \
		echo "cri-deps: go install crictl@$(CRICTL_VERSION)"; \
		GOBIN=$(CRI_BIN) $(GO) install sigs.k8s.io/cri-tools/cmd/crictl@$(CRICTL_VERSION); }
	@$(GO) version -m $(CRI_BIN)/containerd2/containerd 2>/dev/null | grep -qE '^\s+mod\s+github.com/containerd/containerd/v2\s+$(CONTAINERD2_VERSION)\s' || { \
		echo "cri-deps: go install containerd $(CONTAINERD2_VERSION) (a few minutes)"; \
		GOBIN=$(CRI_BIN)/containerd2 $(GO) install -tags no_btrfs \
			github.com/containerd/containerd/v2/cmd/containerd@$(CONTAINERD2_VERSION) \
			github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$(CONTAINERD2_VERSION) \
			github.com/containerd/containerd/v2/cmd/ctr@$(CONTAINERD2_VERSION) || \
		echo "cri-deps: containerd $(CONTAINERD2_VERSION) did not build; the suite runs containerd 1.6 only"; }

test-cri: cri-deps
	SYSGATE_CRI=1 SYSGATE_CRI_BIN=$(CRI_BIN) $(GO) test -count=1 -timeout 30m -v ./deploy/ ./integration/cri/
	SYSGATE_CRI=1 SYSGATE_CRI_BIN=$(CRI_BIN) $(GO) test -count=1 -timeout 30m -run '^$$' -bench BenchmarkPodStart -benchtime $(CRI_BENCHTIME) ./integration/cri/

bench-cri: cri-deps
	SYSGATE_CRI=1 SYSGATE_CRI_BIN=$(CRI_BIN) $(GO) test -count=1 -timeout 30m -run '^$$' -bench BenchmarkPodStart -benchtime $(CRI_BENCHTIME) ./integration/cri/

soak: cri-deps
	SYSGATE_CRI=1 SYSGATE_CRI_BIN=$(CRI_BIN) SYSGATE_SOAK=$(SOAK_TIME) $(GO) test -count=1 -tags soak -timeout 0 -v -run '^TestSoak$$' ./integration/cri/
