#!/usr/bin/env bash
# The main job: the same mkdir under a profile that blocks it and unconfined
# (sysgate exec), then busybox containers through sysgate-runc in front of
# runc. Exits non-zero if anything does not behave.
set -uo pipefail
exec 2>&1
cd "$(dirname "$0")/.."
profile=docs/examples/block-mkdir.json
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== sysgate version"
bin/sysgate version

echo
echo "== validate $profile"
bin/sysgate profile validate "$profile" || exit 1

echo
echo "== under the profile: sysgate exec --profile $profile -- mkdir $work/blocked"
if bin/sysgate exec --profile "$profile" -- mkdir "$work/blocked"; then
	echo "FAIL: mkdir succeeded under a profile that blocks it" >&2
	exit 1
fi
[ ! -e "$work/blocked" ] || { echo "FAIL: the directory exists" >&2; exit 1; }

echo
echo "== unconfined: mkdir $work/allowed"
mkdir "$work/allowed" && echo "created $work/allowed" || { echo "FAIL: unconfined mkdir failed" >&2; exit 1; }

echo
echo "== what the profile does to mkdir, per ABI (computed by the BPF interpreter)"
bin/sysgate profile explain "$profile" --syscall mkdir
echo
echo "== containers through sysgate-runc in front of runc"
if [ "$(id -u)" != 0 ]; then
	echo "FAIL: running containers needs root" >&2
	exit 1
fi
go run ./integration/demo --bin bin || exit 1
