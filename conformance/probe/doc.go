// Package probe builds and drives sysgate-probe, a small static C program
// that makes one system call and reports, as one JSON line, what the kernel
// did with it: the return value and errno, the SIGSYS that a seccomp
// SECCOMP_RET_TRAP action raises, or (through the wait status) the SIGSYS that
// SECCOMP_RET_KILL_* ends the process with.
//
// Tests run the probe under a seccomp filter, usually through a wrapper that
// installs the filter and execs the rest of its command line, and compare
// Result.Outcome with the verdict they expect:
//
//	path := probetest.BuildForTest(t)
//	res, err := probe.Run(ctx, path, []string{loader, "--profile", p}, probe.ABINative, 83, "s:"+dir)
//	if err != nil { t.Fatal(err) }
//	if got := res.Outcome(); got != "errno:EPERM" { ... }
//
// The probe can call through each x86 ABI: native x86_64 (syscall), i386
// (int $0x80, so seccomp sees AUDIT_ARCH_I386) and x32 (syscall with
// __X32_SYSCALL_BIT). Its command line:
//
//	sysgate-probe [--abi native|i386|x32] [--repeat N] NR [ARG...]
//	sysgate-probe --status
//
// NR is the number in the chosen ABI's own table (for x32 without the
// 0x40000000 bit, which the probe adds). Each ARG, at most six, is an integer
// (decimal, 0x hex or negative decimal; a leading 0 is not octal), "s:TEXT"
// (a pointer to a NUL-terminated copy of TEXT) or "b:N" (a pointer to N zeroed
// writable bytes). Strings and buffers live below 2 GiB so that they are valid
// i386 pointers. --repeat makes the call N times and reports the last result.
// --status prints the Seccomp, Seccomp_filters and NoNewPrivs values of the
// probe's /proc/self/status. Exit status: 0 after a report, 1 when setup
// fails, 2 on a usage error.
//
// To stay usable under filters that deny nearly everything, the probe makes
// few system calls besides the one under test. A filter must allow these for
// the probe to reach it (as seen with glibc 2.36 on x86_64; other libc
// versions differ slightly): the static start-up's brk, arch_prctl,
// set_tid_address, set_robust_list, rseq, prlimit64, readlink, getrandom and
// mprotect; mmap, only when there are s: or b: arguments; rt_sigaction for
// SIGSYS; then write and exit_group. A denied start-up call may kill the
// probe or make it fail before it reports.
package probe
