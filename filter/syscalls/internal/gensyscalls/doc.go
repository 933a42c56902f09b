// Command gensyscalls writes filter/syscalls/table.go: the syscall names and
// numbers of one pinned Linux release for x86_64, i386, x32, arm64 and arm
// (EABI). Run it with go generate ./filter/syscalls/; it needs the network
// (Debian's archive) and apt-get and dpkg-deb, which builds and tests do not.
//
// # Source
//
// The tables come from Debian's linux-libc-dev package (pinned below by
// version and sha256), from the kernel's UAPI headers in it under
// /usr/lib/linux/uapi/<arch>/asm/: unistd_64.h, unistd_32.h and
// unistd_x32.h for x86, unistd_64.h for arm64, unistd-eabi.h and unistd.h for
// arm. The kernel build writes those headers from its syscall tables
// (scripts/syscallhdr.sh) with each ABI's own selection of rows: "common,64"
// for x86_64, "i386", "common,x32" for x32, scripts/syscall.tbl with
// "common,64,renameat,rlimit,memfd_secret" for arm64 (since 6.11; before, the
// arm64 numbers came from asm-generic/unistd.h), "common,eabi" for arm. Taking
// the generated headers means those selection rules are the kernel's, not a
// copy of them here that could drift.
//
// Why this package and version: this machine's network reaches Debian's
// archive and no other source of kernel code (kernel.org and
// snapshot.debian.org are out of reach), so the choice was among the
// versions the archive serves. The host kernel, 6.18, is not among them
// (trixie has 6.12, trixie-backports and sid 7.2 and 7.3). 6.12 lacks the
// *xattrat calls (6.13), open_tree_attr (6.15) and file_getattr/file_setattr
// (6.17) that 6.18 has, and syscall numbers are never reassigned, so the
// newest release, 7.3 (7.3.4-1~bpo13+1 in trixie-backports), is a superset
// of every kernel sysgate meets, 6.18 included: a number the running kernel
// lacks gets ENOSYS from it. linux-libc-dev is 2.6 MB against the 167 MB of
// linux-source-7.3, whose tarball holds the .tbl files themselves; for
// 7.3.4 the two were compared once, ABI by ABI, and agree on every name and
// number.
//
// trixie-backports keeps superseded versions in its index for a while, but
// not for ever: when apt-get can no longer download the pinned version, pin
// a newer one (debVersion, debSuite, debSHA256, kernelVersion) and check the
// table's diff, which must only add syscalls.
//
// -deb FILE uses a copy of the package at hand instead of downloading it; it
// is checked against the same sha256.
package main
