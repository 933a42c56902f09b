#!/usr/bin/env bash
# Installs what building and testing sysgate needs on Debian 12, as root.
# Quiet and quick when everything is already there, so every make target that
# needs it can call it.
set -euo pipefail

packages=(
	gcc libc6-dev pkg-config make git ca-certificates
	libseccomp-dev   # libseccomp headers, pkg-config file and the static libseccomp.a
	gcc-multilib     # 32-bit test binaries for the ABI-bypass tests
	busybox-static   # container root filesystems for runtime tests
	runc crun        # the runtimes sysgate-runc wraps and the conformance suite checks
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	if [ "$(id -u)" != 0 ]; then
		echo "install-deps: missing Debian packages: ${missing[*]}; run as root or install them" >&2
		exit 1
	fi
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH=/usr/local/go/bin:$PATH
fi
if ! command -v go >/dev/null 2>&1; then
	echo "install-deps: no Go toolchain found (need Go >= 1.26 in PATH or /usr/local/go)" >&2
	exit 1
fi
go mod download
