#!/bin/bash
# run-targets.sh: run the seccomp conformance suite against Debian's runc and
# crun, alone and behind sysgate-runc, and write one Markdown table per
# target to $OUT (docs/conformance). Every target runs even when one fails;
# the exit status is non-zero if any did. Needs root, bin/sysgate,
# bin/sysgate-runc and bin/sysgate-probe (make conformance builds them).
set -u
BIN=${BIN:-bin}
OUT=${OUT:-docs/conformance}
XFAIL=conformance/expected-failures
RUNC=${RUNC:-/usr/sbin/runc}
# crun 1.8.1 refuses this machine's mixed cgroup v1/v2 layout: run it where
# it sees only cgroup2 (see the script).
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
	start=$(date +%s%N)
	SYSGATE_CONFIG=$config "$BIN/sysgate" conformance --runtime "$runtime" --probe "$BIN/sysgate-probe" \
		--expect-failures "$XFAIL/$xfail" --title "$title" --output table >"$OUT/$name.md" || status=1
	end=$(date +%s%N)
	printf '%-22s %s  (%d.%01ds)\n' "$name" "$(grep -E '^[0-9]+ passed, ' "$OUT/$name.md")$(sed -n 's/^\([0-9]*\) expected failures.*/, \1 xfail/p' "$OUT/$name.md")" \
		$(((end - start) / 1000000000)) $(((end - start) / 100000000 % 10))
}
target runc "runc $runc_v" "runc-$runc_v.txt" /dev/null "$RUNC"
target crun "crun $crun_v" "crun-$crun_v.txt" /dev/null "$CRUN"
target sysgate-runc-runc "sysgate-runc in front of runc $runc_v" "sysgate-runc-runc-$runc_v.txt" "$tmp/runc.toml" "$BIN/sysgate-runc"
target sysgate-runc-crun "sysgate-runc in front of crun $crun_v" "sysgate-runc-crun-$crun_v.txt" "$tmp/crun.toml" "$BIN/sysgate-runc"
# With CHECK=DIR, compare the new tables with the committed ones in DIR,
# leaving out what changes between identical runs (date, time taken,
# kernel and sysgate builds): CI fails when the docs no longer say what the
# runtimes do.
if [ -n "${CHECK:-}" ]; then
	for f in "$OUT"/*.md; do
		if ! diff -u --label "$CHECK/$(basename "$f") (committed)" --label "$(basename "$f") (this run)" \
			<(grep -Ev '^- (date|kernel): ' "$CHECK/$(basename "$f")") <(grep -Ev '^- (date|kernel): ' "$f"); then
			echo "conformance: $CHECK/$(basename "$f") differs from this run; run make conformance and commit the tables" >&2
			status=1
		fi
	done
fi
exit $status
