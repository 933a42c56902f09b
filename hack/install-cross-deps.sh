#!/usr/bin/env bash
# install-cross-deps.sh ARCH: what cross-building sysgate for ARCH needs on
# Debian 12 (amd64), as root, only when missing (the contract of
# hack/install-deps.sh). Prints the directory holding the cross compilers.
#
# arm64: Debian's arm64 cross toolchain, libseccomp for arm64 through
# multiarch (its static libseccomp.a goes into the binaries), the 32-bit
# ARM (armhf) toolchain for the AArch32 compat probe, and qemu's user-mode
# emulators, which run the arm64 RuntimeDefault proof (containerd's
# DefaultProfile follows runtime.GOARCH, so only an arm64 process renders
# the arm64 profile).
#
# Debian's gcc-12-aarch64-linux-gnu and gcc-12-arm-linux-gnueabihf conflict
# with gcc-multilib, which the x86 ABI tests need (gcc -m32): installing
# them removes gcc-multilib (and /usr/include/asm), and installing
# gcc-multilib removes them. So the two compiler packages (and the cc1 and
# libgcc they run with) are downloaded with apt-get and unpacked under
# CROSS_ROOT instead of installed; binutils, the libc headers and libraries
# and libseccomp, which conflict with nothing, are installed as usual.
set -euo pipefail
arch=${1:?usage: install-cross-deps.sh arm64}
CROSS_ROOT=${CROSS_ROOT:-/var/cache/sysgate-cross}
case $arch in
amd64) exit 0 ;;
arm64) ;;
*) echo "install-cross-deps: no cross build for $arch (amd64 and arm64 are supported)" >&2; exit 1 ;;
esac
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	if [ "$(id -u)" != 0 ]; then
		echo "install-cross-deps: arm64 is not a dpkg architecture here; run as root (dpkg --add-architecture arm64)" >&2
		exit 1
	fi
	echo "adding the arm64 dpkg architecture (multiarch, for libseccomp-dev:arm64)" >&2
	dpkg --add-architecture arm64
	# apt-ensure updates the lists when something is missing, which the
	# arm64 library then is.
fi
"$(dirname "$0")/apt-ensure.sh" >&2 \
	binutils-aarch64-linux-gnu libc6-dev-arm64-cross libseccomp-dev:arm64 \
	binutils-arm-linux-gnueabihf libc6-dev-armhf-cross \
	qemu-user-static

# The unpacked compilers, for the version apt would install now.
unpacked=()
for pkg in gcc-12-aarch64-linux-gnu cpp-12-aarch64-linux-gnu libgcc-12-dev-arm64-cross \
	gcc-12-arm-linux-gnueabihf cpp-12-arm-linux-gnueabihf libgcc-12-dev-armhf-cross; do
	ver=$(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		echo "install-cross-deps: apt knows no $pkg; is the Debian archive in the sources?" >&2
		exit 1
	fi
	unpacked+=("$pkg=$ver")
done
stamp="$CROSS_ROOT/root/.unpacked"
if [ "$(cat "$stamp" 2>/dev/null)" != "${unpacked[*]}" ]; then
	echo "unpacking ${unpacked[*]} into $CROSS_ROOT/root" >&2
	rm -rf "$CROSS_ROOT/debs" "$CROSS_ROOT/root"
	mkdir -p "$CROSS_ROOT/debs" "$CROSS_ROOT/root/usr"
	(cd "$CROSS_ROOT/debs" && apt-get download -q "${unpacked[@]}" >&2)
	for deb in "$CROSS_ROOT"/debs/*.deb; do
		dpkg-deb -x "$deb" "$CROSS_ROOT/root"
	done
	# The compilers look for their assembler, linker and libc beside
	# their prefix: the installed binutils and libc of each target.
	ln -sfn /usr/aarch64-linux-gnu "$CROSS_ROOT/root/usr/aarch64-linux-gnu"
	ln -sfn /usr/arm-linux-gnueabihf "$CROSS_ROOT/root/usr/arm-linux-gnueabihf"
	echo "${unpacked[*]}" >"$stamp"
fi
echo "$CROSS_ROOT/root/usr/bin"
