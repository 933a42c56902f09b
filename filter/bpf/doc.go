// Package bpf is sysgate's pure-Go toolkit for classic BPF seccomp programs:
// its one job is to say what a program is and what it does, without
// libseccomp, cgo or the kernel. It encodes and decodes instructions
// (struct sock_filter), assembles short programs with symbolic jumps, checks
// a program the way the kernel does before attaching it, runs it on a
// seccomp_data in an interpreter, disassembles it, and models the kernel's
// seccomp action cache.
//
// It imports only the standard library (TestPackageIsPure keeps it so), so
// that every verdict it gives can be trusted independently of the compiler
// in package filter, which builds on it. Model: gVisor's pkg/bpf beside
// pkg/seccomp.
package bpf
