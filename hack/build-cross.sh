#!/usr/bin/env bash
# build-cross.sh ARCH OUTDIR VERSION: the static binaries for another
# machine (make build ARCH=arm64): sysgate, sysgate-runc, the shim and the
# syscall probe; for arm64 also sysgate-probe-arm, the 32-bit ARM (AArch32)
# probe an arm64 kernel runs through its compat entry.
set -euo pipefail
arch=${1:?usage: build-cross.sh ARCH OUTDIR VERSION}
out=${2:?OUTDIR}
version=${3:-dev}
case $arch in
arm64) triple=aarch64-linux-gnu ;;
*) echo "build-cross: no cross build for $arch (arm64 is supported)" >&2; exit 1 ;;
esac
cross=$("$(dirname "$0")/install-cross-deps.sh" "$arch")
mkdir -p "$out"
export CGO_ENABLED=1 GOOS=linux GOARCH=$arch CC="$cross/$triple-gcc-12"
# libseccomp.pc of the target (multiarch); its libseccomp.a is linked in.
export PKG_CONFIG_LIBDIR=/usr/lib/$triple/pkgconfig:/usr/share/pkgconfig
go build -trimpath -tags netgo,osusergo \
	-ldflags "-s -w -X main.version=$version -linkmode external -extldflags '-static'" -o "$out/" ./cmd/...
"$CC" -static -O2 -Wall -Werror -o "$out/sysgate-probe" conformance/probe/src/probe.c
"$cross/arm-linux-gnueabihf-gcc-12" -static -O2 -Wall -Werror -o "$out/sysgate-probe-arm" conformance/probe/src/probe.c
echo "built for $arch: $(ls "$out" | tr '\n' ' ')"
