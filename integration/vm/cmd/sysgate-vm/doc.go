// Command sysgate-vm runs the kernel matrix: the filter package's kernel
// tests on the host and in qemu guests booting Debian kernels of several
// releases, each twice (default and syscall.x32=y). `make test-vm` builds its
// inputs and runs it; see docs/vm.md.
//
//	sysgate-vm -payload DIR [-cache DIR] [-out DIR] [-report FILE] [-kernels 5.10,6.1,...]
//	           [-jobs N] [-timeout D] [-accel auto|kvm|tcg] [-machine pc|microvm] [-host=false]
//
// DIR given to -payload holds filter.test, sysgate-probe and mkdir32, all
// static. Exit status: 0 when every run passed, 1 when one failed, 2 when the
// matrix could not be set up.
package main
