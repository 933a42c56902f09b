// Package nodekit is what the CRI and Kubernetes suites (integration/cri,
// integration/k8s) put on their private test nodes: the offline container
// images as OCI image layouts in one tar (what `ctr images import` and
// `podman load` read, so nothing is ever pulled), sysgate's binaries built
// static like `make build`, the seed's Localhost profile, and a reader for
// sysgate's decision log. Test-only.
package nodekit
