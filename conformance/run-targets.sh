#!/bin/sh
# run-targets.sh: run the seccomp conformance suite against Debian's runc and
# crun, alone and behind sysgate-runc, and write one Markdown table and one
# JSON report per target to $OUT. Every target runs even when one fails; the
# exit status is non-zero if any did.
#
# Two callers, one list of targets:
# - make conformance boots a VM-tier guest whose kernel has every ABI
#   (integration/vm, guest_conformance.sh) and runs this script there, with
#   busybox's sh: those reports are the committed reference
#   (docs/conformance).
# - make conformance-check runs it on the host with REFERENCE=docs/conformance:
#   each target is compared with its reference, case by case, on the cases
#   the host could run (a host without IA-32 emulation skips the i386 ones).
#
# VERBOSE=1 prints each case as it finishes.
# Needs root, $BIN/sysgate, $BIN/sysgate-runc and $BIN/sysgate-probe. POSIX
# sh only: the guest has busybox, not bash.
set -u
BIN=${BIN:-bin}
OUT=${OUT:-docs/conformance}
XFAIL=${XFAIL:-conformance/expected-failures}
RUNC=${RUNC:-/usr/sbin/runc}
# crun 1.8.1 refuses a mixed cgroup v1/v2 layout: run it where it sees only
# cgroup2 (see the script). The guest runs it the same way, so that both
# tables name the same runtime command.
CRUN=${CRUN_RUNTIME:-conformance/crun-private.sh}
runc_v=$("$RUNC" --version | sed -n 's/^runc version \([^+~]*\).*/\1/p')
crun_v=$(crun --version | sed -n 's/^crun version //p')

tmp=$(mktemp -d /tmp/sysgate-conformance-targets-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$OUT"

# policy FILE RUNTIME KIND: sysgate-runc's policy for the suite. The node
# default is unconfined, so a bundle without linux.seccomp stays
# unconfined as the runtime spec says (the node default is sysgate's own
# feature, tested in integration/wrapper); every other case carries its
# profile, which sysgate-runc validates, compiles and passes on.
policy() {
	printf 'runtime = "%s"\nruntime_kind = "%s"\ndefault = "unconfined"\ncache_dir = "%s/cache"\n' "$2" "$3" "$tmp" >"$1"
}
policy "$tmp/runc.toml" "$RUNC" runc
policy "$tmp/crun.toml" "$(realpath "$CRUN")" crun

status=0
# target NAME TITLE XFAIL-FILE POLICY RUNTIME
target() {
	name=$1 title=$2 xfail=$3 config=$4 runtime=$5
	set -- --runtime "$runtime" --probe "$BIN/sysgate-probe" --expect-failures "$XFAIL/$xfail" \
		--title "$title" --output table --json "$OUT/$name.json"
	if [ -n "${VERBOSE:-}" ]; then
		set -- "$@" -v
	fi
	if [ -n "${REFERENCE:-}" ]; then
		set -- "$@" --reference "$REFERENCE/$name.json"
	fi
	start=$(date +%s)
	if [ -n "${VERBOSE:-}" ]; then
		# Each case as it finishes: a slow guest shows where it is.
		SYSGATE_CONFIG=$config "$BIN/sysgate" conformance "$@" >"$OUT/$name.md" || status=1
		: >"$tmp/$name.err"
	else
		SYSGATE_CONFIG=$config "$BIN/sysgate" conformance "$@" >"$OUT/$name.md" 2>"$tmp/$name.err" || status=1
	fi
	printf '%-22s %s  (%ds)\n' "$name" "$(grep -E '^[0-9]+ passed, ' "$OUT/$name.md")$(sed -n 's/^\([0-9]*\) expected failures.*/, \1 xfail/p' "$OUT/$name.md")" \
		$(($(date +%s) - start))
	sed "s|^|    $name: |" "$tmp/$name.err"
}
target runc "runc $runc_v" "runc-$runc_v.txt" /dev/null "$RUNC"
target crun "crun $crun_v" "crun-$crun_v.txt" /dev/null "$CRUN"
target sysgate-runc-runc "sysgate-runc in front of runc $runc_v" "sysgate-runc-runc-$runc_v.txt" "$tmp/runc.toml" "$BIN/sysgate-runc"
target sysgate-runc-crun "sysgate-runc in front of crun $crun_v" "sysgate-runc-crun-$crun_v.txt" "$tmp/crun.toml" "$BIN/sysgate-runc"
exit $status
