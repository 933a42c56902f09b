#!/bin/sh
# Runs inside a Vagrant guest, as root, from the directory Vagrant copied the
# static payload to. It prints the same SYSGATE-VM-* markers and `go test -v`
# lines as the qemu guests' init, so that `sysgate-vm -parse` judges both the
# same way, plus TestGuestRuntime lines for runc and crun running a
# container under a mkdir-blocking profile.
p=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/sysgate-test.XXXXXX)
. /etc/os-release 2>/dev/null
echo "SYSGATE-VM-BEGIN uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "SYSGATE-VM-INFO uname=$(uname -r)"
echo "SYSGATE-VM-INFO os=${PRETTY_NAME:-unknown}"
echo "SYSGATE-VM-INFO cmdline=$(cat /proc/cmdline)"
echo "SYSGATE-VM-INFO actions=$(cat /proc/sys/kernel/seccomp/actions_avail 2>/dev/null)"
cd "$work" || exit 1
TMPDIR=$work sh "$p/kernel-tests.sh" "$p"
rc=$?

# An OCI bundle whose rootfs is the static busybox plus mkdir32.
mkdir -p "$work/bundle/rootfs/bin" "$work/bundle/rootfs/tmp"
cp "$p/busybox" "$work/bundle/rootfs/bin/busybox"
cp "$p/mkdir32" "$work/bundle/rootfs/mkdir32"
config() { # ARGS-JSON SECCOMP-JSON-OR-EMPTY
	cat >"$work/bundle/config.json" <<JSON
{"ociVersion":"1.0.2",
 "process":{"terminal":false,"user":{"uid":0,"gid":0},"args":$1,"env":["PATH=/bin"],"cwd":"/","noNewPrivileges":true},
 "root":{"path":"rootfs","readonly":false},
 "hostname":"sysgate",
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
  {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},
  {"destination":"/tmp","type":"tmpfs","source":"tmpfs"}],
 "linux":{"namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"network"}]$2}}
JSON
}
profile() { # ARCHES-JSON
	echo ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":$1,\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\"}]}"
}
n=0
case_() { # RUNTIME NAME ARGS-JSON SECCOMP WANT-REGEX WANT-STATUS
	n=$((n + 1))
	config "$3" "$4"
	out=$(timeout 60 "$1" run --bundle "$work/bundle" "sysgate-test-$n" 2>&1)
	status=$?
	"$1" delete -f "sysgate-test-$n" >/dev/null 2>&1
	if printf '%s\n' "$out" | grep -Eq "$5" && [ "$status" = "$6" ]; then
		echo "--- PASS: TestGuestRuntime/$1-$2 (0.00s)"
	else
		echo "--- FAIL: TestGuestRuntime/$1-$2 (0.00s)"
		echo "    guest-test.sh: status $status (want $6), output: $out (want /$5/)"
		rc=1
	fi
}
only64=$(profile '["SCMP_ARCH_X86_64"]')
all3=$(profile '["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"]')
for rt in runc crun; do
	if ! command -v "$rt" >/dev/null; then
		echo "--- SKIP: TestGuestRuntime/$rt (0.00s)"
		echo "    guest-test.sh: $rt is not installed in this guest"
		continue
	fi
	# Controls first: without a profile both mkdirs succeed, so a pass
	# below is the profile's doing.
	case_ "$rt" unconfined-busybox '["/bin/busybox","mkdir","/tmp/d"]' "" '^$' 0
	case_ "$rt" unconfined-mkdir32 '["/mkdir32","/tmp/d"]' "" 'mkdir32 ok' 0
	case_ "$rt" x86_64-only-busybox '["/bin/busybox","mkdir","/tmp/d"]' "$only64" 'Operation not permitted' 1
	# 159 = 128 + SIGSYS: the bad-arch action kills the i386 process.
	case_ "$rt" x86_64-only-mkdir32 '["/mkdir32","/tmp/d"]' "$only64" '' 159
	case_ "$rt" all-arches-busybox '["/bin/busybox","mkdir","/tmp/d"]' "$all3" 'Operation not permitted' 1
	case_ "$rt" all-arches-mkdir32 '["/mkdir32","/tmp/d"]' "$all3" 'mkdir32 errno 1$' 0
done
cd / && rm -rf "$work"
echo "SYSGATE-VM-END rc=$rc uptime=$(cut -d' ' -f1 /proc/uptime)"
exit $rc
