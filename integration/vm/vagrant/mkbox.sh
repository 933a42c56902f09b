#!/usr/bin/env bash
# Builds the offline Vagrant box (libvirt provider) from Debian's archive:
# debootstrap into a partitioned raw disk, GRUB, a vagrant user with the
# insecure key, runc and crun, then qcow2 + metadata.json + Vagrantfile, and
# registers it as $SYSGATE_LOCAL_BOX. For machines that reach a Debian mirror
# but not Vagrant Cloud. Usage: mkbox.sh OUTDIR
set -euo pipefail

out=${1:?usage: mkbox.sh OUTDIR}
name=${SYSGATE_LOCAL_BOX:-sysgate/debian12-local}
mirror=${SYSGATE_VM_MIRROR:-http://deb.debian.org/debian}
suite=${SYSGATE_BOX_SUITE:-bookworm}
mkdir -p "$out"
out=$(cd "$out" && pwd)
raw=$out/disk.raw mnt=$out/mnt
start=$SECONDS
step() { printf '[mkbox %3ds] %s\n' $((SECONDS - start)) "$*"; }

[ "$(id -u)" = 0 ] || { echo "mkbox.sh: needs root (loop devices, mount, chroot)" >&2; exit 1; }
pubkey=$(find /usr/share/rubygems-integration /usr/lib/ruby /opt/vagrant -name vagrant.pub -path '*keys*' 2>/dev/null | head -1 || true)
[ -n "$pubkey" ] || { echo "mkbox.sh: Vagrant's insecure public key (keys/vagrant.pub) not found; is vagrant installed?" >&2; exit 1; }

loop=
cleanup() {
	set +e
	for m in dev/pts dev proc sys ""; do mountpoint -q "$mnt/$m" && umount "$mnt/$m"; done
	[ -n "$loop" ] && losetup -d "$loop"
}
trap cleanup EXIT

step "raw disk $raw (4 GiB, one bootable partition)"
rm -f "$raw"
truncate -s 4G "$raw"
printf 'label: dos\n,,L,*\n' | sfdisk -q "$raw"
loop=$(losetup -f --show -P "$raw")
# Without udev (containers, CI) the partition node may not appear by itself.
[ -b "${loop}p1" ] || partx -a "$loop" || true
mkfs.ext4 -q -L root "${loop}p1"
mkdir -p "$mnt"
mount "${loop}p1" "$mnt"

step "debootstrap $suite from $mirror"
# dbus: systemd-logind and networkd want it; systemd-resolved is left out
# (it fails without dbus at bootstrap time).
debootstrap --variant=minbase \
	--include=linux-image-amd64,grub-pc,openssh-server,sudo,systemd-sysv,dbus,udev,kmod,iproute2,ca-certificates,runc,crun,e2fsprogs \
	"$suite" "$mnt" "$mirror" >"$out/debootstrap.log" 2>&1 || { tail -20 "$out/debootstrap.log"; exit 1; }

step "configure: fstab, network, vagrant user, GRUB"
echo 'LABEL=root / ext4 defaults,errors=remount-ro 0 1' >"$mnt/etc/fstab"
echo sysgate-box >"$mnt/etc/hostname"
# Clones of one box must not share a machine-id: their DHCP DUIDs would
# collide and libvirt's dnsmasq would give only one of them an address.
: >"$mnt/etc/machine-id"
cat >"$mnt/etc/systemd/network/80-dhcp.network" <<'NET'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4

[DHCPv4]
ClientIdentifier=mac
NET
chroot "$mnt" useradd -m -s /bin/bash vagrant
echo 'vagrant ALL=(ALL) NOPASSWD: ALL' >"$mnt/etc/sudoers.d/vagrant"
chmod 440 "$mnt/etc/sudoers.d/vagrant"
install -d -m 700 -o 1000 -g 1000 "$mnt/home/vagrant/.ssh"
install -m 600 -o 1000 -g 1000 "$pubkey" "$mnt/home/vagrant/.ssh/authorized_keys"
echo 'UseDNS no' >"$mnt/etc/ssh/sshd_config.d/vagrant.conf"
chroot "$mnt" systemctl enable systemd-networkd ssh >/dev/null 2>&1

for m in dev dev/pts proc sys; do mount --bind "/$m" "$mnt/$m"; done
sed -i -e 's/^GRUB_TIMEOUT=.*/GRUB_TIMEOUT=1/' \
	-e 's/^GRUB_CMDLINE_LINUX=.*/GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200"/' "$mnt/etc/default/grub"
chroot "$mnt" grub-install --target=i386-pc "$loop" >"$out/grub.log" 2>&1
chroot "$mnt" update-grub >>"$out/grub.log" 2>&1
# update-grub in a chroot names the loop device as root.
sed -i "s|root=${loop}p1|root=LABEL=root|g; s|root=UUID=[0-9a-f-]*|root=LABEL=root|g" "$mnt/boot/grub/grub.cfg"
grep -q 'root=LABEL=root' "$mnt/boot/grub/grub.cfg" || { echo "mkbox.sh: grub.cfg has no root=LABEL=root" >&2; exit 1; }
chroot "$mnt" apt-get clean
cleanup
loop=
trap - EXIT

step "qcow2 and box"
rm -f "$out/box.img"
qemu-img convert -O qcow2 "$raw" "$out/box.img"
rm -f "$raw"
echo '{"provider":"libvirt","format":"qcow2","virtual_size":4}' >"$out/metadata.json"
cat >"$out/Vagrantfile" <<'VF'
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |lv|
    lv.disk_bus = "virtio"
  end
end
VF
tar -C "$out" -cf "$out/sysgate-debian12.box" metadata.json Vagrantfile box.img
rm -f "$out/box.img"
vagrant box add --force --name "$name" "$out/sysgate-debian12.box"
rm -f "$out/sysgate-debian12.box"
step "done: box $name"
