#!/bin/busybox sh
# PID 1 of the kernel-matrix guests. It prints SYSGATE-VM-* marker lines on
# the serial console, which the host parses, runs the filter package's
# kernel tests and powers off. Anything it cannot do is reported, never
# hidden: a missing END line is a failed boot.
/bin/busybox --install -s /bin
export PATH=/bin HOME=/root TMPDIR=/tmp
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
# Programs that re-open their own fds go through /dev/fd.
ln -s /proc/self/fd /dev/fd 2>/dev/null
echo "SYSGATE-VM-BEGIN uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "SYSGATE-VM-INFO uname=$(uname -r)"
echo "SYSGATE-VM-INFO cmdline=$(cat /proc/cmdline)"
echo "SYSGATE-VM-INFO actions=$(cat /proc/sys/kernel/seccomp/actions_avail 2>/dev/null)"
cd /tmp
sh /sysgate/kernel-tests.sh /sysgate
rc=$?
echo "SYSGATE-VM-END rc=$rc uptime=$(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
