// Package containerd is sysgate as a containerd shim v2: containerd's own
// runc shim (github.com/containerd/containerd/v2, cmd/containerd-shim-runc-v2)
// with its task service wrapped so that Create first runs shim.Prepare on
// the bundle. Operators then write runtime_type = "io.containerd.sysgate.v1"
// instead of pointing a runc runtime's BinaryName at sysgate-runc.
//
// Importing the package registers the wrapped service as the shim's "task"
// TTRPC plugin, in place of the runc shim's own registration (which must
// therefore not be imported as well).
//
// The shim library is containerd v2.4's: it speaks task API v3 and reads its
// bootstrap parameters from stdin, so it works with containerd 2.4 and newer
// only. containerd 1.6 and 1.7 must use the BinaryName path (docs/deploy.md).
package containerd
