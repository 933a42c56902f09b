#!/usr/bin/env bash
# apt-ensure.sh PACKAGE...: installs the Debian packages that are missing,
# as root, and does nothing (quickly) when all are there. Every install
# script of the project goes through it.
set -euo pipefail
missing=()
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]})) || exit 0
if [ "$(id -u)" != 0 ]; then
	echo "missing Debian packages: ${missing[*]}; run as root or install them" >&2
	exit 1
fi
echo "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
