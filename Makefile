# sysgate build, test and demo targets. Every target that builds or tests
# first runs hack/install-deps.sh, so that a fresh Debian 12 machine needs
# nothing but this repository, Go and root.

export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# Binaries are static (Debian ships libseccomp.a) so they run on any node.
STATIC_LDFLAGS := -s -w -X main.version=$(VERSION) -linkmode external -extldflags '-static'
STATIC_TAGS := netgo,osusergo
FUZZTIME ?= 10s
# make test fuzzes by count, not time: with a duration, Go 1.26's fuzz
# coordinator can report "context deadline exceeded" at the deadline with no
# failing input (golang/go#75804, fixed in Go 1.27).
TEST_FUZZTIME ?= 10000x

.PHONY: all deps build demo test test-all test-unit test-arm64-proof fuzz bench clean install uninstall release

all: build

deps:
	@hack/install-deps.sh

# The static syscall probe goes beside sysgate: `sysgate conformance` finds
# it there, so a copy of bin/ runs the suite on a node without a compiler.
# make build ARCH=arm64 cross-compiles the same set (and the 32-bit ARM
# probe) into bin/arm64/ with Debian's cross toolchain (hack/build-cross.sh).
ARCH ?= amd64
build: deps
ifeq ($(ARCH),amd64)
	@mkdir -p bin
	CGO_ENABLED=1 $(GO) build -trimpath -tags $(STATIC_TAGS) -ldflags "$(STATIC_LDFLAGS)" -o bin/ ./cmd/...
	gcc -static -O2 -Wall -Werror -o bin/sysgate-probe conformance/probe/src/probe.c
	@echo "built: $$(ls bin | tr '\n' ' ')"
else
	hack/build-cross.sh $(ARCH) bin/$(ARCH) $(VERSION)
endif

# The arm64 RuntimeDefault proof: containerd renders its profile for the
# GOARCH it runs on, so the spec/profile tests run as an arm64 binary under
# qemu-user (TestRuntimeDefaultMatchesContainerd and the rest).
test-arm64-proof: deps
	@hack/test-cross.sh arm64 -run 'RuntimeDefault' ./spec/profile/

# make release: static binaries for amd64 and arm64 with their SHA-256 sums
# in _out/release/sysgate-VERSION-linux-ARCH/.
release:
	$(MAKE) --no-print-directory build ARCH=amd64
	$(MAKE) --no-print-directory build ARCH=arm64
	@hack/release.sh $(VERSION) _out/release

# The main job: run a command under a profile that blocks mkdir, then without.
demo: build
	@hack/demo.sh

# Every test, including the ones that load filters into the kernel and run
# containers (they need root; CI runs as root), then a short fuzzing pass.
test: deps
	$(GO) vet ./...
	$(GO) test -count=1 ./...
	@$(MAKE) --no-print-directory test-arm64-proof
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME)

test-unit: deps
	$(GO) test -count=1 -short ./...

fuzz: deps
	$(GO) test -run '^$$' -fuzz '^FuzzParseProfile$$' -fuzztime $(FUZZTIME) ./spec/profile/
	$(GO) test -run '^$$' -fuzz '^FuzzRun$$' -fuzztime $(FUZZTIME) ./filter/bpf/
	$(GO) test -run '^$$' -fuzz '^FuzzWithMembers$$' -fuzztime $(FUZZTIME) ./spec/internal/jsonobj/
	$(GO) test -run '^$$' -fuzz '^FuzzScanNested$$' -fuzztime $(FUZZTIME) ./spec/internal/jsonobj/
	$(GO) test -run '^$$' -fuzz '^FuzzParseHelperRequest$$' -fuzztime $(FUZZTIME) ./shim/
	$(GO) test -run '^$$' -fuzz '^FuzzEditor$$' -fuzztime $(FUZZTIME) ./deploy/install/
	$(GO) test -run '^$$' -fuzz '^FuzzParseRecord$$' -fuzztime $(FUZZTIME) ./shim/denials/
	$(GO) test -run '^$$' -fuzz '^FuzzMerge$$' -fuzztime $(FUZZTIME) ./shim/record/

# One run, side by side: per-syscall cost, compile time, container starts
# (runc, crun, and sysgate-runc in front of each), written to
# docs/benchmarks.md; then the Go micro-benchmarks.
bench: build
	$(GO) run ./integration/bench -bin bin -out docs/benchmarks.md
	$(GO) test -run '^$$' -bench . -benchtime 20x ./filter/ ./shim/ ./integration/wrapper/

# Everything CI runs: the tests, the conformance check against the
# reference tables, the kernel matrix in qemu, the Vagrant VMs, the
# containerd/CRI and podman suite, and the single-node Kubernetes tier
# (about 20 min to build Kubernetes on a fresh machine, docs/kubernetes.md).
# None of them may change the work tree.
test-all:
	@mkdir -p _out && hack/tree-state.sh >_out/tree-before
	$(MAKE) --no-print-directory test conformance-check test-vm test-vagrant test-cri test-k8s
	@hack/tree-state.sh | cmp -s - _out/tree-before || { \
		echo "test-all: the tests changed the work tree (see git status); results belong under an ignored _out/" >&2; exit 1; }

clean:
	rm -rf bin

# make install [PREFIX=/usr/local] [DESTDIR=]: the binaries into
# $(PREFIX)/bin (each through a rename, so running shims keep their inode),
# the helper's unit, and the default policy unless one exists (never
# overwritten: it is the operator's). Then `sysgate install --containerd`
# registers the handler and `sysgate doctor` checks the node (README).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
UNITDIR ?= /etc/systemd/system
# Where the built binaries are taken from (tests point it at fakes).
INSTALL_FROM ?= bin
INSTALL_BINS := sysgate sysgate-runc sysgate-helper containerd-shim-sysgate-v1 sysgate-probe
POLICY := $(DESTDIR)$(SYSCONFDIR)/sysgate/config.toml

install: build
	install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/sysgate
	@for b in $(INSTALL_BINS); do \
		install -m 0755 $(INSTALL_FROM)/$$b $(DESTDIR)$(BINDIR)/.$$b.new && \
		mv -f $(DESTDIR)$(BINDIR)/.$$b.new $(DESTDIR)$(BINDIR)/$$b && echo "installed $(BINDIR)/$$b" || exit 1; \
	done
	sed 's|/usr/local/bin/sysgate |$(BINDIR)/sysgate |; s|/etc/sysgate/config.toml|$(SYSCONFDIR)/sysgate/config.toml|' deploy/systemd/sysgate-helper.service >$(DESTDIR)$(UNITDIR)/.sysgate-helper.service.new
	chmod 0644 $(DESTDIR)$(UNITDIR)/.sysgate-helper.service.new
	mv -f $(DESTDIR)$(UNITDIR)/.sysgate-helper.service.new $(DESTDIR)$(UNITDIR)/sysgate-helper.service
	@if [ -e $(POLICY) ] || [ -L $(POLICY) ]; then \
		echo "kept the existing policy $(SYSCONFDIR)/sysgate/config.toml (the default is deploy/policy/config.toml)"; \
	else \
		install -m 0644 deploy/policy/config.toml $(POLICY).new && \
		ln $(POLICY).new $(POLICY) && rm -f $(POLICY).new && \
		echo "installed the default policy $(SYSCONFDIR)/sysgate/config.toml"; \
	fi
	@echo "next: $(BINDIR)/sysgate install --containerd (or --crio, --podman, --docker), then $(BINDIR)/sysgate doctor;"
	@echo "      for faster starts: systemctl daemon-reload && systemctl enable --now sysgate-helper"

# make uninstall: the binaries and the unit; the policy stays (it is the
# operator's). Refused while an engine still has the handler: its
# containers would fail to start.
uninstall:
	@if [ -e $(DESTDIR)/var/lib/sysgate/install.json ]; then \
		echo "make uninstall: engines still run sysgate-runc ($(DESTDIR)/var/lib/sysgate/install.json): run sysgate uninstall first" >&2; exit 1; \
	fi
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(INSTALL_BINS)) $(DESTDIR)$(UNITDIR)/sysgate-helper.service
	@echo "kept $(SYSCONFDIR)/sysgate/config.toml; remove it by hand if you no longer want it"
-include integration/vm/vm.mk
-include conformance/conformance.mk
-include cri.mk
-include k8s.mk
