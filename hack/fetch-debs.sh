#!/usr/bin/env bash
# fetch-debs.sh DIR PACKAGE...: downloads the named Debian packages (not
# installed: nothing runs, no service starts) into DIR, once. The record
# tests build a container root filesystem from them offline (redis-server
# from redis-tools and the libraries the host lacks).
set -euo pipefail
dir=$1
shift
mkdir -p "$dir"
missing=()
for p in "$@"; do
	compgen -G "$dir/${p}_*.deb" >/dev/null || missing+=("$p")
done
((${#missing[@]})) || exit 0
echo "fetching ${missing[*]} into $dir"
cd "$dir"
apt-get download -q "${missing[@]}" 2>/dev/null || { apt-get update -q && apt-get download -q "${missing[@]}"; }
