// Package bundle builds OCI bundles for tests: a busybox-static root
// filesystem, optional extra static binaries, and a config.json close to
// what containerd renders for a Kubernetes container, with no terminal and
// no network. No image registry is needed.
package bundle
