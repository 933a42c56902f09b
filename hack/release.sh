#!/usr/bin/env bash
# release.sh VERSION OUTDIR: one directory per machine with the static
# binaries of make build (bin/ for amd64, bin/arm64/ for arm64) and a
# SHA256SUMS file, plus a tarball of each with its own checksum.
set -euo pipefail
version=${1:?usage: release.sh VERSION OUTDIR}
out=${2:?OUTDIR}
mkdir -p "$out"
for arch in amd64 arm64; do
	src=bin
	[ "$arch" = amd64 ] || src=bin/$arch
	name=sysgate-$version-linux-$arch
	rm -rf "${out:?}/$name"
	mkdir -p "$out/$name"
	for b in sysgate sysgate-runc sysgate-helper containerd-shim-sysgate-v1 sysgate-probe sysgate-probe-arm; do
		[ -f "$src/$b" ] && install -m 0755 "$src/$b" "$out/$name/$b"
	done
	case $arch in
	amd64) want='x86-64' ;;
	arm64) want='ARM aarch64' ;;
	esac
	if ! file "$out/$name/sysgate" | grep -q "$want"; then
		echo "release: $src/sysgate is not a $arch binary: $(file -b "$out/$name/sysgate")" >&2
		exit 1
	fi
	(cd "$out/$name" && sha256sum -- * >SHA256SUMS)
	tar -C "$out" -czf "$out/$name.tar.gz" "$name"
done
(cd "$out" && sha256sum -- *.tar.gz >SHA256SUMS)
echo "release $version:"
cat "$out/SHA256SUMS"
