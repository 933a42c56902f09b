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
	golang-github-containers-common  # /usr/share/containers/seccomp.json: podman's default profile, which sysgate must accept
	prometheus       # the denial metrics test scrapes the helper with a real server (started by the test)
)

"$(dirname "$0")/apt-ensure.sh" "${packages[@]}"

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH=/usr/local/go/bin:$PATH
fi
if ! command -v go >/dev/null 2>&1; then
	echo "install-deps: no Go toolchain found (need Go >= 1.26 in PATH or /usr/local/go)" >&2
	exit 1
fi
go mod download
# runc >= 1.2 beside Debian's 1.1.5, for the denial tests (seccomp flags).
"$(dirname "$0")/build-runc.sh"
# A real server from Debian packages for the record tests, unpacked into a
# container root filesystem offline (integration/wrapper TestRecordServer).
"$(dirname "$0")/fetch-debs.sh" /var/cache/sysgate-record/debs redis-tools libjemalloc2 liblzf1
