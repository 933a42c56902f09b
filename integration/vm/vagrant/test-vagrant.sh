#!/usr/bin/env bash
# make test-vagrant: bring the Vagrantfile's machines up, run the kernel and
# runtime tests inside, collect and judge the results, destroy the machines.
# Every step is time-bounded. Usage: test-vagrant.sh PAYLOAD-DIR WORK-DIR
#   SYSGATE_BOX       machines (default: local, the offline box)
#   SYSGATE_PROVIDER  libvirt (default) or virtualbox
set -euo pipefail

repo=$(cd "$(dirname "$0")/../../.." && pwd)
payload=$(cd "${1:?usage: test-vagrant.sh PAYLOAD WORK}" && pwd)
mkdir -p "${2:?}"
work=$(cd "$2" && pwd)
export SYSGATE_BOX=${SYSGATE_BOX:-local}
export SYSGATE_PAYLOAD=$payload
export VAGRANT_DOTFILE_PATH=$work/.vagrant  # keep .vagrant/ out of the repository root
export VAGRANT_CHECKPOINT_DISABLE=1 VAGRANT_NO_COLOR=1
provider=${SYSGATE_PROVIDER:-libvirt}
start=$SECONDS
step() { printf '[test-vagrant %4ds] %s\n' $((SECONDS - start)) "$*"; }
cd "$repo"

cp integration/vm/vagrant/guest-test.sh "$payload/"
cp /bin/busybox "$payload/busybox"
rm -rf "$payload/run"   # the qemu matrix's work files are not part of the payload

started=()
if [ "$provider" = libvirt ] && ! virsh -c qemu:///system version >/dev/null 2>&1; then
	# Without systemd as PID 1 (containers, CI sandboxes) nothing starts
	# libvirtd; start it here and stop what we started at the end.
	step "starting virtlogd and libvirtd (not running; PID 1 is $(ps -o comm= -p 1))"
	virtlogd -d
	libvirtd -d
	for _ in $(seq 50); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.2; done
	started=(libvirtd virtlogd)
fi
if [[ ",$SYSGATE_BOX," == *,local,* ]] && ! vagrant box list 2>/dev/null | grep -q "^${SYSGATE_LOCAL_BOX:-sysgate/debian12-local} "; then
	step "local box missing: building it (make vagrant-box)"
	integration/vm/vagrant/mkbox.sh "$work/../box"
fi

machines=$(vagrant status --machine-readable | awk -F, '$3 == "state" {print $2}')
step "machines: $(echo $machines) (SYSGATE_BOX=$SYSGATE_BOX, provider $provider)"

cleanup() {
	set +e
	step "destroy"
	timeout 300 vagrant destroy -f >"$work/destroy.log" 2>&1 || tail -5 "$work/destroy.log"
	for d in "${started[@]}"; do
		pid=$(cat "/run/$d.pid" 2>/dev/null || cat "/var/run/$d.pid" 2>/dev/null)
		[ -n "$pid" ] && kill "$pid"
	done
	step "end"
}
trap cleanup EXIT

step "vagrant up (log: $work/up.log)"
if ! timeout "${SYSGATE_UP_TIMEOUT:-1200}" vagrant up --provider="$provider" >"$work/up.log" 2>&1; then
	tail -30 "$work/up.log"
	echo "test-vagrant: vagrant up failed or timed out" >&2
	exit 1
fi
grep -E 'Machine booted and ready|provision: ' "$work/up.log" || true
step "machines up"

logs=()
for m in $machines; do
	step "$m: tests"
	timeout 900 vagrant ssh "$m" -c 'sudo sh /tmp/sysgate/guest-test.sh' >"$work/$m.log" 2>&1 || true
	logs+=("$work/$m.log")
done
step "results"
"$payload/../sysgate-vm" -parse -report "$work/vagrant-matrix.md" "${logs[@]}"
