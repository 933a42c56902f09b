#!/usr/bin/env bash
# Builds a single-node Kubernetes from the Go module proxy into a cache
# directory outside the repository, for the Kubernetes test tier (make
# test-k8s, integration/k8s): kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet, kubectl and kubeadm (only its certificate and
# kubeconfig phases are used) in one `go build` so they share the build
# cache, and etcd with etcdctl. Quiet and quick when the binaries are current.
#
# k8s.io/kubernetes is not meant to be a dependency: its module zip lacks
# staging/, which the `replace k8s.io/X => ./staging/src/k8s.io/X` lines of
# its go.mod point at. The published k8s.io/X v0.<minor>.<patch> modules are
# those staging trees, so the copy's go.mod requires them instead.
# etcd's go.mod has replace directives too, so `go install` refuses it: a
# small wrapper module requires the server and etcdctl and builds them.
#
# Times (2 shared cores) and memory are in docs/kubernetes.md.
set -euo pipefail

k8s_version=${K8S_VERSION:-v1.34.4}
etcd_version=${ETCD_VERSION:-v3.6.16}
cache=${K8S_CACHE:-/var/cache/sysgate-k8s}
out=$cache/bin
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH=/usr/local/go/bin:$PATH
fi
# The go.mod files name a go version, never a toolchain to download.
export GOTOOLCHAIN=local GOWORK=off GOFLAGS=-buildvcs=false

k8s_current() {
	local b
	for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl kubeadm; do
		[ -x "$out/$b" ] || return 1
	done
	"$out/kubelet" --version 2>/dev/null | grep -qx "Kubernetes $k8s_version" &&
		"$out/kube-apiserver" --version 2>/dev/null | grep -qx "Kubernetes $k8s_version"
}

etcd_current() {
	[ -x "$out/etcd" ] && [ -x "$out/etcdctl" ] &&
		go version -m "$out/etcd" 2>/dev/null | grep -qE "^\s+mod\s+go.etcd.io/etcd/server/v3\s+$etcd_version\s"
}

now() { date +%s; }

mkdir -p "$out"
if ! k8s_current; then
	start=$(now)
	echo "build-k8s: building Kubernetes $k8s_version (about 15 min on 2 cores from a cold cache)" >&2
	src=$(go mod download -json "k8s.io/kubernetes@$k8s_version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	if [ -z "$src" ]; then
		echo "build-k8s: go mod download found no source for k8s.io/kubernetes $k8s_version" >&2
		exit 1
	fi
	# The copy stays in the cache so that a rebuild reuses its go.sum.
	work=$cache/src/kubernetes-$k8s_version
	if [ ! -f "$work/.sysgate-rewritten" ]; then
		rm -rf "$work"
		mkdir -p "$(dirname "$work")"
		cp -r "$src" "$work"
		chmod -R u+w "$work"
		rm -rf "$work/vendor" "$work/go.work" "$work/go.work.sum"
		staging_version=v0.${k8s_version#v1.}
		edits=()
		for mod in $(sed -n 's/^\s*\(k8s\.io\/[^ ]*\) => \.\/staging\/src\/.*/\1/p' "$work/go.mod"); do
			edits+=(-dropreplace="$mod" -require="$mod@$staging_version")
		done
		if [ ${#edits[@]} -eq 0 ]; then
			echo "build-k8s: found no staging replace lines in k8s.io/kubernetes $k8s_version's go.mod" >&2
			exit 1
		fi
		(cd "$work" && go mod edit "${edits[@]}")
		touch "$work/.sysgate-rewritten"
	fi
	minor=${k8s_version#v1.}
	minor=${minor%%.*}
	ld="-s -w"
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ld="$ld -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
		ld="$ld -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	done
	mkdir -p "$cache/tmp"
	rm -rf "$cache/tmp/k8s-bin"
	(cd "$work" && CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "$ld" -o "$cache/tmp/k8s-bin/" \
		./cmd/kube-apiserver ./cmd/kube-controller-manager ./cmd/kube-scheduler \
		./cmd/kubelet ./cmd/kubectl ./cmd/kubeadm)
	mv "$cache/tmp/k8s-bin/"* "$out/"
	echo "build-k8s: Kubernetes $k8s_version built in $(($(now) - start)) s" >&2
fi

if ! etcd_current; then
	start=$(now)
	echo "build-k8s: building etcd $etcd_version (a few minutes)" >&2
	wrap=$cache/src/etcd-$etcd_version
	rm -rf "$wrap"
	mkdir -p "$wrap"
	cat >"$wrap/tools.go" <<-'EOF'
		//go:build tools

		// Package etcdwrap only requires etcd's server and etcdctl, so that
		// go build can build them as dependencies (their own go.mod files
		// have replace directives, which go install refuses).
		package etcdwrap

		import (
			_ "go.etcd.io/etcd/etcdctl/v3"
			_ "go.etcd.io/etcd/server/v3"
		)
	EOF
	(cd "$wrap" && go mod init sysgate.test/etcdwrap >/dev/null 2>&1 &&
		go get "go.etcd.io/etcd/server/v3@$etcd_version" "go.etcd.io/etcd/etcdctl/v3@$etcd_version" >/dev/null 2>&1 &&
		rm -rf bin && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o bin/ \
			go.etcd.io/etcd/server/v3 go.etcd.io/etcd/etcdctl/v3)
	mv "$wrap/bin/server" "$out/etcd"
	mv "$wrap/bin/etcdctl" "$out/etcdctl"
	echo "build-k8s: etcd $etcd_version built in $(($(now) - start)) s" >&2
fi
