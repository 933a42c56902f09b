// Package filter turns an OCI seccomp profile (specs.LinuxSeccomp) into a
// classic BPF program for the x86 family (x86_64, x86, x32) with libseccomp,
// prepends an ENOSYS stub for syscalls newer than the profile, exports the
// program as raw sock_filter bytes, loads it into the calling process, and
// interprets it in process so that every verdict can be proven without
// trusting libseccomp.
//
// It is the bottom layer of sysgate: it knows nothing of Kubernetes, bundles
// or policy. Callers validate a profile (package spec) before compiling it.
package filter
