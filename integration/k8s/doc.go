// Package k8s runs sysgate under a real single-node Kubernetes: etcd, the
// apiserver, the controller manager, the scheduler and the kubelet, built
// from the Go module proxy by hack/build-k8s.sh, on a private containerd
// 2.x with the handlers runc, sysgate (BinaryName sysgate-runc, with the
// create helper) and sysgate-shim (io.containerd.sysgate.v1), each with a
// RuntimeClass. Pods go through kubectl, so the tests see what an operator
// sees: the seed's manifests applied as written, the kubelet's
// --seccomp-default, its localhostProfile validation, Pod Security
// Admission, and the reasons `kubectl describe pod` gives.
//
// Everything is private to the test binary: one directory under /tmp
// (certificates, etcd's data, containerd's root, state and sockets, the
// kubelet's --root-dir, whose seccomp/ is sysgate's profile_root), loopback
// ports chosen free at start, and a cgroup parent of its own. What the
// kubelet changes outside its root (three sysctls, /var/lib/kubelet/
// device-plugins, /var/log/containers) is put back when the tests end.
//
// TestInstallerDaemonSet adds a second node, sysgate-node-sd, whose PID 1
// is systemd in its own mount, PID, UTS and cgroup namespaces, with private
// directories bound over the paths the DaemonSet installer writes
// (sdnode_test.go; docs/kubernetes.md), so that deploy/daemonset.yaml and
// deploy/uninstall.yaml run for real without touching this host.
//
// The suite is opt-in: it needs root, the Kubernetes binaries and minutes,
// so it runs only with SYSGATE_K8S=1 (make test-k8s builds what is missing
// and sets it); otherwise every test skips at once.
package k8s
