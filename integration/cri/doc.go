// Package cri tests sysgate the way a Kubernetes node runs it, without a
// control plane: the tests start private containerd daemons (Debian's 1.6
// and, when built, containerd 2.x) with their own root, state, socket and
// config, import offline pause and busybox images that the tests build as
// OCI layouts, and drive the CRI with crictl using the PodSandboxConfig and
// ContainerConfig that the kubelet would send, including the absolute
// localhost_ref it computes under its seccomp root.
//
// Each daemon has three runtime handlers: runc (plain), sysgate
// (io.containerd.runc.v2 with BinaryName = sysgate-runc) and sysgate-shim
// (io.containerd.sysgate.v1, the containerd shim). The tests check what the
// container really runs with (/proc/<pid>/status, the bundle's config.json,
// a blocked mkdir), that sysgate's refusals reach crictl's error, that 50
// concurrent Pods each get their intended profile and leave nothing behind,
// and benchmark Pod start through sysgate against plain runc.
//
// A third containerd 2.x daemon has NRI on, on a private socket, with
// deploy/containerd/nri-v3.toml's settings (nri_test.go): `sysgate nri`
// decides there for the plain runc handler, and the tests kill, stop and
// restart it to show what containerd does with creates meanwhile.
//
// The suite is opt-in: it needs root, minutes, containerd and crictl, so it
// runs only with SYSGATE_CRI=1 (make test-cri sets it and installs what is
// missing); otherwise every test skips at once.
package cri
