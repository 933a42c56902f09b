#!/bin/busybox sh
# PID 1 of the conformance guest (make conformance): the seccomp conformance
# suite against runc and crun, alone and behind sysgate-runc, on a Debian
# kernel that has every ABI (IA-32 emulation, and x32 with syscall.x32=y),
# so that no case is skipped. The reports leave on the second serial port as
# a tar stream; the console carries SYSGATE-VM-* marker lines.
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin:/usr/sbin HOME=/root TMPDIR=/tmp

if [ "${1:-}" != stage2 ]; then
	# runc and crun pivot_root into each container's root, which the
	# initramfs (rootfs) cannot allow: move everything to a tmpfs first.
	mkdir -p /newroot
	mount -t tmpfs -o mode=0755 root /newroot
	for d in bin usr lib lib64 work init; do
		[ -e "/$d" ] && cp -a "/$d" /newroot/
	done
	mkdir -p /newroot/dev /newroot/proc /newroot/sys /newroot/tmp /newroot/run /newroot/root
	mount -t devtmpfs dev /newroot/dev
	exec switch_root /newroot /init stage2
fi

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# runc re-opens its own binary through /dev/fd (runc#2552).
ln -s /proc/self/fd /dev/fd 2>/dev/null
echo "SYSGATE-VM-BEGIN uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "SYSGATE-VM-INFO uname=$(uname -r)"
echo "SYSGATE-VM-INFO cmdline=$(cat /proc/cmdline)"
echo "SYSGATE-VM-INFO actions=$(cat /proc/sys/kernel/seccomp/actions_avail 2>/dev/null)"
echo "SYSGATE-VM-INFO abi=$(/work/bin/sysgate version | sed -n 's/^abi: *//p')"
cd /work
mkdir -p /tmp/results
BIN=/work/bin OUT=/tmp/results VERBOSE=1 sh conformance/run-targets.sh 2>&1
rc=$?
# Raw mode: the tar stream must reach the host byte for byte.
stty -F /dev/ttyS1 raw -echo 2>/dev/null
tar -C /tmp/results -cf /dev/ttyS1 .
echo "SYSGATE-VM-END rc=$rc uptime=$(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
