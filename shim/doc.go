// Package shim is sysgate's front door to container runtimes: the OCI
// runtime wrapper behind sysgate-runc (a drop-in for runc and crun) and, in
// shim/containerd, the containerd shim (containerd-shim-sysgate-v1). It
// understands just enough of the runtime's command line to find the bundle
// at create and run, has package spec decide and rewrite the bundle's
// seccomp profile, reports errors where the caller reads them (stderr and
// runc's --log file), and then execs the real runtime with the original
// arguments, so that stdio, console sockets, pid files, exit codes and
// signals are the runtime's own. Helper is the resident side of the same
// create (`sysgate helper`): sysgate-runc's C constructor hands it the
// command line, and it prepares the bundle when it can do so exactly as
// sysgate-runc would, so that a create need not start the Go runtime.
package shim
