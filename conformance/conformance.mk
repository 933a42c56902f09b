# make conformance: the seccomp conformance suite against Debian's runc and
# crun, alone and behind sysgate-runc; regenerates docs/conformance/*.md.
# Needs root (it creates containers). Included from the Makefile.

.PHONY: conformance

# The probe is static C; the suite copies it into every bundle.
bin/sysgate-probe: integration/probe/src/probe.c
	@mkdir -p bin
	gcc -static -O2 -Wall -Werror -o $@ $<

conformance: build bin/sysgate-probe
	@conformance/run-targets.sh
