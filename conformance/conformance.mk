# The seccomp conformance suite against Debian's runc and crun, alone and
# behind sysgate-runc (conformance/run-targets.sh). Needs root. Included
# from the Makefile, after integration/vm/vm.mk.
#
#   make conformance        the reference: the four targets in a VM-tier guest
#                           whose kernel has every ABI (IA-32, x32), so that
#                           no case is skipped; rewrites docs/conformance/
#   make conformance-check  the four targets on this host, each compared
#                           case by case with the reference (for CI)

.PHONY: conformance conformance-check

CONFORMANCE_KERNEL ?= 6.12

# make build puts the static probe (conformance/probe/src/probe.c) in bin/.
conformance: build vm-deps
	$(GO) build -o $(VM_OUT)/sysgate-vm ./$(VM_DIR)/cmd/sysgate-vm
	$(VM_OUT)/sysgate-vm -conformance docs/conformance -conformance-kernel $(CONFORMANCE_KERNEL) \
		-bin bin -conformance-src conformance -out $(VM_OUT)/conformance

# Cases this host cannot run (an ABI its kernel lacks) are skipped and left
# out of the comparison; every other case must match the reference.
conformance-check: build
	@out=$$(mktemp -d) && trap 'rm -rf "$$out"' EXIT && OUT=$$out REFERENCE=docs/conformance conformance/run-targets.sh
