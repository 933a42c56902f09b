// Package syscalls is sysgate's own syscall table: the names and numbers of
// the system calls of one pinned, recent Linux release (KernelVersion), for
// each ABI a sysgate filter may name, keyed by the OCI spelling of the
// architecture:
//
//   - SCMP_ARCH_X86_64: x86_64, the "common" and "64" rows of
//     arch/x86/entry/syscalls/syscall_64.tbl.
//   - SCMP_ARCH_X86: i386, syscall_32.tbl. Its numbers are the direct
//     ones: a call i386 reaches only through the multiplexers socketcall
//     and ipc (accept, send, recv, semop, ...) is not in it, and socket,
//     shmget and the like appear once, under their own numbers. (libseccomp
//     gives those names pseudo-syscall numbers and turns a rule for them
//     into rules for both ways in; a compiler using this table must cover
//     socketcall and ipc itself.)
//   - SCMP_ARCH_X32: x32, the "common" and "x32" rows of syscall_64.tbl,
//     numbered as the kernel and seccomp see them: with X32SyscallBit
//     (0x40000000) set, so read is 0x40000000 and x32's own compat ioctl
//     (row 514) is 0x40000202. x32 has no entry at the number of a "64"-only
//     row (ioctl is not 0x40000010).
//   - SCMP_ARCH_AARCH64: arm64, the rows of scripts/syscall.tbl with the
//     ABIs arch/arm64/kernel/Makefile.syscalls selects (common, 64, renameat,
//     rlimit, memfd_secret): openat but no open, renameat, getrlimit.
//   - SCMP_ARCH_ARM: 32-bit arm, EABI: the "common" and "eabi" rows of
//     arch/arm/tools/syscall.tbl, plus the ARM-private calls of
//     asm/unistd.h (breakpoint, cacheflush, usr26, usr32, set_tls, get_tls at
//     0x0f0001..0x0f0006) and its alias sync_file_range2 for
//     arm_sync_file_range.
//
// It exists because the libseccomp that sysgate links (2.5.4 on Debian 12)
// does not know the syscalls added since about Linux 6.1 (mseal, listmount,
// statmount, the *xattrat family, the lsm_* calls, uretprobe, ...), and a
// rule that names a syscall libseccomp cannot resolve is silently dropped.
//
// The table is generated (table.go, by internal/gensyscalls: go generate
// ./filter/syscalls/) from the kernel's own UAPI headers, which the kernel
// build derives from the tables above; regenerating needs the network, but
// building and testing do not. Syscall numbers are never reassigned, so a
// table from a newer kernel than the one running is a superset of it: the
// running kernel answers ENOSYS for the numbers it lacks.
//
// The package is pure Go and imports only the standard library and the OCI
// runtime-spec types, so that every layer of sysgate may use it.
package syscalls

//go:generate go run ./internal/gensyscalls -o table.go
