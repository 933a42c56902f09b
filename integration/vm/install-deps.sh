#!/usr/bin/env bash
# Installs what the VM tiers need on Debian 12, as root, only when missing
# (the same contract as hack/install-deps.sh, which covers building and the
# plain tests).
#   install-deps.sh vm       qemu and the initramfs inputs (make test-vm)
#   install-deps.sh vagrant  also Vagrant, vagrant-libvirt, libvirt and the box builder
#   install-deps.sh vm-arm64 qemu-system-aarch64 (the arm64 tier; its cross
#                            toolchain comes from hack/install-cross-deps.sh)
set -euo pipefail

packages=(
	qemu-system-x86         # the guests (TCG when there is no usable KVM)
	busybox-static          # the initramfs userland
	gcc-multilib            # mkdir32, the real i386 binary of the ABI tests
	libseccomp-dev          # the static libseccomp.a inside filter.test
	debian-archive-keyring  # verifies the suites the kernel fetcher lists
	ca-certificates
)
if [ "${1:-vm}" = vm-arm64 ]; then
	packages=(qemu-system-arm debian-archive-keyring ca-certificates)
fi
if [ "${1:-vm}" = vagrant ]; then
	packages+=(
		vagrant vagrant-libvirt libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients
		dnsmasq-base iptables ebtables   # libvirt's default NAT network
		debootstrap fdisk qemu-utils e2fsprogs  # make vagrant-box
		rsync openssh-client
	)
fi

"$(dirname "$0")/../../hack/apt-ensure.sh" "${packages[@]}"
