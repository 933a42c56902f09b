# make conformance: the seccomp conformance suite against Debian's runc and
# crun, alone and behind sysgate-runc; regenerates docs/conformance/*.md.
# Needs root (it creates containers). Included from the Makefile.

.PHONY: conformance conformance-check

# The probe is static C; the suite copies it into every bundle.
bin/sysgate-probe: integration/probe/src/probe.c
	@mkdir -p bin
	gcc -static -O2 -Wall -Werror -o $@ $<

conformance: build bin/sysgate-probe
	@conformance/run-targets.sh

# For CI: run all four targets into a scratch directory and fail if a table
# differs from the committed one (dates and build versions aside).
conformance-check: build bin/sysgate-probe
	@out=$$(mktemp -d) && trap 'rm -rf "$$out"' EXIT && OUT=$$out CHECK=docs/conformance conformance/run-targets.sh
