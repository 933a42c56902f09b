# Kernel-level test tiers (docs/vm.md). Included by the main Makefile; every
# target installs what it needs through integration/vm/install-deps.sh.
#
#   make test-vm        kernel matrix: host + Debian kernels under qemu; the report goes to
#                       integration/vm/_out/kernel-matrix.md (a test run changes no tracked file)
#   make kernel-matrix  the same, then copies the report to docs/kernel-matrix.md
#   make vagrant-box    builds the offline Vagrant box from Debian's archive
#   make test-vagrant   up, test, collect, destroy with the Vagrantfile (SYSGATE_BOX=local offline)

VM_DIR      := integration/vm
VM_OUT      ?= $(VM_DIR)/_out
VM_PAYLOAD  := $(VM_OUT)/payload
VM_REPORT   ?= $(VM_OUT)/kernel-matrix.md
VM_ARGS     ?=

.PHONY: vm-deps vm-payload test-vm kernel-matrix vagrant-deps vagrant-box test-vagrant vm-arm64-deps test-vm-arm64 kernel-matrix-arm64

vm-deps:
	@$(VM_DIR)/install-deps.sh vm

# The guest payload: everything static, so guests need no toolchain or
# shared libraries (Vagrant boxes get the same files).
vm-payload: deps vm-deps
	@mkdir -p $(VM_PAYLOAD)
	CGO_ENABLED=1 $(GO) test -c -tags $(STATIC_TAGS) -o $(VM_PAYLOAD)/filter.test \
		-ldflags "-linkmode external -extldflags '-static'" ./filter/
	CGO_ENABLED=1 $(GO) test -c -tags $(STATIC_TAGS) -o $(VM_PAYLOAD)/probe.test \
		-ldflags "-linkmode external -extldflags '-static'" ./conformance/probe/
	CGO_ENABLED=1 $(GO) test -c -tags $(STATIC_TAGS) -o $(VM_PAYLOAD)/denials.test \
		-ldflags "-linkmode external -extldflags '-static'" ./shim/denials/
	cp $(VM_DIR)/kernel-tests.sh $(VM_PAYLOAD)/
	gcc -static -O2 -Wall -Werror -o $(VM_PAYLOAD)/sysgate-probe conformance/probe/src/probe.c
	gcc -m32 -static -O2 -Wall -Werror -o $(VM_PAYLOAD)/mkdir32 conformance/probe/src/mkdir32.c
	$(GO) build -o $(VM_OUT)/sysgate-vm ./$(VM_DIR)/cmd/sysgate-vm

test-vm: vm-payload
	$(VM_OUT)/sysgate-vm -payload $(VM_PAYLOAD) -out $(VM_OUT)/run -report $(VM_REPORT) $(VM_ARGS)

# Refreshes the committed matrix from a passing run; the arm64 section
# (make kernel-matrix-arm64) stays at its end.
kernel-matrix: test-vm
	cp $(VM_REPORT) docs/kernel-matrix.md
	@if [ -f docs/kernel-matrix-arm64.md ]; then printf '\n## arm64\n\n' >>docs/kernel-matrix.md; cat docs/kernel-matrix-arm64.md >>docs/kernel-matrix.md; fi

vagrant-deps:
	@$(VM_DIR)/install-deps.sh vagrant

vagrant-box: vagrant-deps
	$(VM_DIR)/vagrant/mkbox.sh $(VM_OUT)/box

test-vagrant: vm-payload vagrant-deps
	$(VM_DIR)/vagrant/test-vagrant.sh $(VM_PAYLOAD) $(VM_OUT)/vagrant

# The arm64 tier (docs/vm.md): Debian's arm64 kernels under
# qemu-system-aarch64 (TCG) with the binaries of make build ARCH=arm64.
# Not part of test-vm: see docs/kernel-matrix.md for its time.
VM_ARM64_OUT ?= $(VM_OUT)/arm64
vm-arm64-deps:
	@$(VM_DIR)/install-deps.sh vm-arm64

test-vm-arm64: vm-arm64-deps
	$(MAKE) --no-print-directory build ARCH=arm64
	$$(hack/install-cross-deps.sh arm64)/aarch64-linux-gnu-gcc-12 -static -O2 -Wall -Werror -o bin/arm64/naive $(VM_DIR)/arm64/naive.c
	@mkdir -p $(VM_ARM64_OUT)
	$(GO) run ./$(VM_DIR)/cmd/sysgate-vm-arm64 -bin bin/arm64 -out $(VM_ARM64_OUT) -report $(VM_ARM64_OUT)/kernel-matrix-arm64.md

# Refreshes the arm64 section of docs/kernel-matrix.md from a passing run.
kernel-matrix-arm64: test-vm-arm64
	cp $(VM_ARM64_OUT)/kernel-matrix-arm64.md docs/kernel-matrix-arm64.md
	@sed -i '/^## arm64$$/,$$d' docs/kernel-matrix.md
	@printf '## arm64\n\n' >>docs/kernel-matrix.md; cat docs/kernel-matrix-arm64.md >>docs/kernel-matrix.md
