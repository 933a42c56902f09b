// Package deploy holds what an operator applies to run sysgate on a
// Kubernetes node with containerd: the containerd runtime-handler snippets
// (containerd/config-v2.toml for 1.6/1.7, containerd/config-v3.toml for
// 2.x), the RuntimeClasses, and the installer DaemonSet with its ConfigMaps
// (policy, Localhost profiles, containerd snippets and install.sh).
//
// The package has no code; its tests decode every manifest with the
// Kubernetes API types, cross-check names between them, decode the TOML
// snippets, and run install.sh against a fake host. The CRI suite
// (integration/cri) runs the snippets themselves in real containerd
// daemons. docs/deploy.md explains the steps and the known limits.
package deploy
