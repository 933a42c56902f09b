#!/bin/busybox sh
# PID 1 of the arm64 guests (make test-vm-arm64). Every check prints one
# SYSGATE-ARM-CHECK line the host parses; a missing END line is a failed
# boot. The kernel's verdict for each call is compared with the one the
# compiled filter gives in sysgate's interpreter (profile explain).
/bin/busybox --install -s /bin
export PATH=/bin:/sysgate HOME=/root TMPDIR=/tmp
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
ln -s /proc/self/fd /dev/fd 2>/dev/null
echo "SYSGATE-ARM-BEGIN uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "SYSGATE-ARM-INFO uname=$(uname -r) machine=$(uname -m)"
echo "SYSGATE-ARM-INFO actions=$(cat /proc/sys/kernel/seccomp/actions_avail 2>/dev/null)"
cd /tmp
S=/sysgate
fails=0

# The kernel's outcome of one probe run: ok, errno:N or SIGSYS.
outcome() {
	out=$("$@" 2>/dev/null)
	rc=$?
	case $out in
	*'"signal":"SIGSYS"'*) echo SIGSYS ;;
	*'"errno":0,'*) echo ok ;;
	*'"errno":'*) echo "errno:$(echo "$out" | sed 's/.*"errno":\([0-9]*\).*/\1/')" ;;
	*) if [ "$rc" -eq 159 ]; then echo SIGSYS; else echo "none(rc=$rc)"; fi ;;
	esac
}
# The interpreter's verdict as the kernel shows it.
interp() { # profile arch syscall
	a=$(sysgate profile explain --arch "$2" --syscall "$3" --output json "$1" 2>/dev/null | sed -n 's/.*"action": *"\([^"]*\)".*/\1/p' | head -1)
	case $a in
	SCMP_ACT_ALLOW) echo ok ;;
	SCMP_ACT_ERRNO\(*\)) echo "errno:$(echo "$a" | tr -dc 0-9)" ;;
	SCMP_ACT_KILL_PROCESS | SCMP_ACT_KILL_THREAD | SCMP_ACT_KILL) echo SIGSYS ;;
	*) echo "?$a" ;;
	esac
}
check() { # name want got [interp]
	r=ok
	[ "$2" = "$3" ] || r=FAIL
	[ -z "$4" ] || [ "$4" = "$3" ] || r=FAIL
	[ $r = ok ] || fails=$((fails + 1))
	echo "SYSGATE-ARM-CHECK name=$1 want=$2 kernel=$3 interp=${4:--} result=$r"
}

echo "SYSGATE-ARM-INFO version=$(sysgate version 2>&1 | tr '\n' ';')"
sysgate version >/dev/null 2>&1
check sysgate-version 0 $?

# Is the AArch32 compat entry there (CONFIG_COMPAT and a CPU with AArch32 EL0)?
aarch32=$(outcome $S/sysgate-probe-arm 20)
echo "SYSGATE-ARM-INFO aarch32=$aarch32"

cat >both.json <<'J'
{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_AARCH64","SCMP_ARCH_ARM"],"syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}
J
cat >a64.json <<'J'
{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_AARCH64"],"syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}
J

# sysgate exec blocks mkdir, and without the filter mkdir works.
check exec-mkdir-blocked errno:1 "$(outcome sysgate exec --profile both.json -- $S/sysgate-probe 34 -100 s:/tmp/exec-blocked 0755)" "$(interp both.json aarch64 mkdirat)"
[ -d /tmp/exec-blocked ] && check exec-mkdir-no-dir absent present
check exec-mkdir-unfiltered ok "$(outcome $S/sysgate-probe 34 -100 s:/tmp/exec-free 0755)"

# The bypass matrix: each filter against mkdirat from aarch64, and mkdir and
# mkdirat from a 32-bit ARM binary. A bypass is a directory the filter meant
# to refuse.
bypass() { # filter path dir
	if [ -d "$3" ]; then
		echo "SYSGATE-ARM-BYPASS filter=$1 path=$2"
	fi
}
for f in none naive sysgate-a64 sysgate-both; do
	case $f in
	none) w= ;;
	naive) w="$S/naive" ;;
	sysgate-a64) w="sysgate exec --profile a64.json --" ;;
	sysgate-both) w="sysgate exec --profile both.json --" ;;
	esac
	a64=$(outcome $w $S/sysgate-probe 34 -100 s:/tmp/$f-a64 0755)
	arm=$(outcome $w $S/sysgate-probe-arm 39 s:/tmp/$f-arm-mkdir 0755)
	armat=$(outcome $w $S/sysgate-probe-arm 323 -100 s:/tmp/$f-arm-mkdirat 0755)
	echo "SYSGATE-ARM-MATRIX filter=$f aarch64_mkdirat=$a64 arm_mkdir=$arm arm_mkdirat=$armat"
	if [ $f != none ]; then
		bypass $f aarch64-mkdirat /tmp/$f-a64
		bypass $f arm-mkdir /tmp/$f-arm-mkdir
		bypass $f arm-mkdirat /tmp/$f-arm-mkdirat
	fi
	case $f in
	sysgate-a64)
		check a64-aarch64-mkdirat errno:1 "$a64" "$(interp a64.json aarch64 mkdirat)"
		check a64-arm-mkdir SIGSYS "$arm" "$(interp a64.json arm mkdir)"
		check a64-arm-mkdirat SIGSYS "$armat" "$(interp a64.json arm mkdirat)" ;;
	sysgate-both)
		check both-aarch64-mkdirat errno:1 "$a64" "$(interp both.json aarch64 mkdirat)"
		check both-arm-mkdir errno:1 "$arm" "$(interp both.json arm mkdir)"
		check both-arm-mkdirat errno:1 "$armat" "$(interp both.json arm mkdirat)" ;;
	esac
done

# containerd's RuntimeDefault as this arm64 binary renders it.
sysgate profile default >rd.json
rd() { outcome sysgate exec --profile rd.json -- "$@"; }
check rd-aarch64-getppid ok "$(rd $S/sysgate-probe 173)" "$(interp rd.json aarch64 getppid)"
check rd-aarch64-mount errno:1 "$(rd $S/sysgate-probe 40 0 0 0 0 0)" "$(interp rd.json aarch64 mount)"
check rd-aarch64-clone3 errno:38 "$(rd $S/sysgate-probe 435 0 0)" "$(interp rd.json aarch64 clone3)"
check rd-aarch64-personality0 ok "$(rd $S/sysgate-probe 92 0xffffffff)"
check rd-aarch64-personality-other errno:1 "$(rd $S/sysgate-probe 92 0x1234)"
check rd-aarch64-unknown-nr errno:38 "$(rd $S/sysgate-probe 1000)"
check rd-arm-getppid ok "$(rd $S/sysgate-probe-arm 64)" "$(interp rd.json arm getppid)"
check rd-arm-mount errno:1 "$(rd $S/sysgate-probe-arm 21 0 0 0 0 0)" "$(interp rd.json arm mount)"
check rd-arm-mkdir ok "$(rd $S/sysgate-probe-arm 39 s:/tmp/rd-arm 0755)" "$(interp rd.json arm mkdir)"
check rd-arm-unknown-nr errno:38 "$(rd $S/sysgate-probe-arm 1000)"

# A container: Debian's arm64 runc 1.1.5 with sysgate-runc in front, the
# node policy's default (RuntimeDefault) for a bundle that asks for no
# profile, a busybox:arm64 root. The initramfs is the root filesystem,
# which pivot_root cannot leave: --no-pivot.
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p /run /tmp/runc-state
printf 'runtime = "/usr/sbin/runc"\ndefault = "runtime/default"\ncache_dir = "/tmp/sysgate-cache"\n' >/tmp/policy.toml
echo "SYSGATE-ARM-INFO runc=$(/usr/sbin/runc --version 2>&1 | head -1)"
t0=$(cut -d' ' -f1 /proc/uptime)
SYSGATE_CONFIG=/tmp/policy.toml $S/sysgate-runc --root /tmp/runc-state run --no-pivot -b /bundle rd1 >/tmp/container.out 2>&1
rc=$?
t1=$(cut -d' ' -f1 /proc/uptime)
sed 's/^/SYSGATE-ARM-CONTAINER /' /tmp/container.out
echo "SYSGATE-ARM-INFO container_seconds=$(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}')"
check container-run 0 $rc
cline() { sed -n "s/^$1 //p" /tmp/container.out; }
seccomp=$(grep -o 'Seccomp:[[:space:]]*[0-9]*' /tmp/container.out | tr -dc 0-9)
check container-seccomp-filter 2 "${seccomp:-none}"
kout() {
	case $1 in
	*'"errno":0,'*) echo ok ;;
	*'"errno":'*) echo "errno:$(echo "$1" | sed 's/.*"errno":\([0-9]*\).*/\1/')" ;;
	*) echo none ;;
	esac
}
check container-getppid ok "$(kout "$(cline getppid)")" "$(interp rd.json aarch64 getppid)"
check container-clone3 errno:38 "$(kout "$(cline clone3)")" "$(interp rd.json aarch64 clone3)"
check container-mount errno:1 "$(kout "$(cline mount)")" "$(interp rd.json aarch64 mount)"
check container-arm-getppid ok "$(kout "$(cline arm-getppid)")" "$(interp rd.json arm getppid)"
check container-arm-mkdir ok "$(kout "$(cline arm-mkdir)")" "$(interp rd.json arm mkdir)"
check container-arm-mount errno:1 "$(kout "$(cline arm-mount)")" "$(interp rd.json arm mount)"

# Per-syscall cost, as the x86 bench (integration/bench): getppid,
# personality(0xffffffff) (an argument rule) and an unknown number, N calls
# each in one process, unfiltered, under sysgate's RuntimeDefault program
# (binary tree, per-arch join) and under runc's layout of the same profile (libseccomp's joint linear
# program). TCG makes the absolute times meaningless; the ratios are what
# is reported.
# Both programs are compiled first and loaded by the same loader, so only
# the program differs between the timed runs.
sysgate profile compile -o rd-sysgate.bpf rd.json
sysgate profile compile --optimize linear --joint -o rd-runc.bpf rd.json
# Three rounds, interleaved, and the fastest of each: the host is shared.
N=100000
ticks() { cut -d' ' -f1 /proc/uptime | tr -d .; }
timed() { t0=$(ticks); "$@" >/dev/null 2>&1; t1=$(ticks); echo $((t1 - t0)); }
min() { [ -z "$1" ] || [ "$2" -lt "$1" ] && echo "$2" || echo "$1"; }
for c in "getppid 173" "personality 92 0xffffffff" "unknown 1000"; do
	set -- $c
	name=$1
	shift
	u= s= r=
	for round in 1 2 3; do
		u=$(min "$u" "$(timed $S/sysgate-probe --repeat $N "$@")")
		s=$(min "$s" "$(timed $S/naive -f rd-sysgate.bpf $S/sysgate-probe --repeat $N "$@")")
		r=$(min "$r" "$(timed $S/naive -f rd-runc.bpf $S/sysgate-probe --repeat $N "$@")")
	done
	echo "SYSGATE-ARM-BENCH syscall=$name calls=$N unfiltered_cs=$u sysgate_cs=$s runc_layout_cs=$r"
done

echo "SYSGATE-ARM-END fails=$fails uptime=$(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
