#!/bin/sh
# crun-private: run crun in a private mount namespace that sees only cgroup2
# at /sys/fs/cgroup, without cgroup management. crun 1.8.1 refuses hosts
# with a mixed cgroup v1/v2 layout (this CI machine's); the conformance
# suite tests seccomp, not cgroups. Where /sys/fs/cgroup already is cgroup2
# (the VM-tier guest) it is left as it is, so that both run crun the same
# way. Use: --runtime conformance/crun-private.sh (or policy runtime =
# ".../crun-private.sh" behind sysgate-runc). CRUN overrides the crun binary.
exec unshare -m sh -c '
	awk '\''$2 == "/sys/fs/cgroup" { t = $3 } END { exit t != "cgroup2" }'\'' /proc/self/mounts ||
		mount -t cgroup2 none /sys/fs/cgroup || exit 1
	exec "$0" --cgroup-manager=disabled "$@"' "${CRUN:-crun}" "$@"
