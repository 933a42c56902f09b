#!/usr/bin/env bash
# Builds a current runc (>= 1.2, which passes seccomp flags such as
# SECCOMP_FILTER_FLAG_LOG to the kernel) from the Go module proxy into a
# cache directory outside the repository, for the denial tests beside
# Debian's runc 1.1.5. runc's go.mod has replace directives, so
# `go install runc@version` refuses it: the module is downloaded and built
# in a scratch copy instead. Quiet and quick when the binary is current.
set -euo pipefail

version=${RUNC_VERSION:-v1.2.8}
out=${RUNC_DIR:-/var/cache/sysgate-cri/bin/runc-1.2}/runc
if [ -x "$out" ] && "$out" --version 2>/dev/null | grep -q "^runc version ${version#v}\$"; then
	exit 0
fi
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH=/usr/local/go/bin:$PATH
fi
echo "build-runc: building runc $version with -tags seccomp (a few minutes)" >&2
src=$(go mod download -json "github.com/opencontainers/runc@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
if [ -z "$src" ]; then
	echo "build-runc: go mod download found no source for runc $version" >&2
	exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$src" "$work/runc"
chmod -R u+w "$work/runc"
# runc 1.2.8 replaces github.com/opencontainers/selinux with a patched copy
# in internal/third_party, a nested module the module zip leaves out: use
# the released module instead. This runc is a test tool, never shipped.
(cd "$work/runc" && go mod edit -dropreplace github.com/opencontainers/selinux)
mkdir -p "$(dirname "$out")"
(cd "$work/runc" && CGO_ENABLED=1 go build -mod=mod -trimpath -tags seccomp \
	-ldflags "-X main.version=${version#v}" -o "$out.tmp" .)
mv "$out.tmp" "$out"
