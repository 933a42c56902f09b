// Package vm is sysgate's kernel-matrix tier: it fetches Debian kernels of
// several releases with a private apt configuration, builds an initramfs from
// busybox-static and the project's static test binaries, boots each kernel
// with qemu (KVM when it works, TCG otherwise), runs the filter package's
// kernel tests inside, reads the results from the serial console and writes
// a case × kernel matrix.
//
// The guest payload does not depend on how the machine is started: the same
// static filter.test, sysgate-probe and mkdir32 run on the host, in these
// qemu guests and in the Vagrant boxes. cmd/sysgate-vm is the command that
// `make test-vm` runs; docs/vm.md explains the decisions.
package vm
