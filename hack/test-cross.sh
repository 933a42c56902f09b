#!/usr/bin/env bash
# test-cross.sh ARCH GO-TEST-ARGS...: go test built for ARCH (cgo, static,
# with the cross toolchain) and run under qemu's user-mode emulator.
set -euo pipefail
arch=${1:?usage: test-cross.sh arm64 GO-TEST-ARGS...}
shift
case $arch in
arm64) triple=aarch64-linux-gnu qemu=qemu-aarch64-static ;;
*) echo "test-cross: no cross tests for $arch (arm64 is supported)" >&2; exit 1 ;;
esac
cross=$("$(dirname "$0")/install-cross-deps.sh" "$arch")
export CGO_ENABLED=1 GOOS=linux GOARCH=$arch CC="$cross/$triple-gcc-12"
export PKG_CONFIG_LIBDIR=/usr/lib/$triple/pkgconfig:/usr/share/pkgconfig
exec go test -count=1 -tags netgo,osusergo -ldflags "-linkmode external -extldflags '-static'" -exec "$qemu" "$@"
