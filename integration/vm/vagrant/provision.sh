#!/bin/sh
# Vagrant shell provisioner: installs runc and crun when they are missing
# (the local box has them already, so it needs no network) and makes the
# copied payload executable. Tests run later, from test-vagrant.sh.
set -eu
need=""
for rt in runc crun; do command -v "$rt" >/dev/null 2>&1 || need="$need $rt"; done
if [ -n "$need" ]; then
	echo "provision: installing$need"
	if command -v apt-get >/dev/null; then
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q && apt-get install -y -q --no-install-recommends $need
	elif command -v dnf >/dev/null; then
		dnf install -y -q $need
	else
		echo "provision: no apt-get or dnf to install$need" >&2
		exit 1
	fi
fi
chmod 755 /tmp/sysgate/*
echo "provision: $(uname -r); runc $(runc --version | head -1 | cut -d' ' -f3); crun $(crun --version | head -1 | cut -d' ' -f3)"
