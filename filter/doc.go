// Package filter turns an OCI seccomp profile (specs.LinuxSeccomp) into a
// classic BPF program for one machine (machine.go: amd64, the x86 family
// x86_64, x86, x32; or arm64, aarch64 and 32-bit arm) and loads it. The
// machine is the running one unless Options.Machine names another: an arm64
// node's program compiles and explains on an x86 host. Its code falls into
// three groups, the third of them a package of its own:
//
//   - Compile (compile.go, machine.go, names.go, numbered.go, enosys.go, join.go,
//     export.go, program.go, cache.go, explain.go, runtime_compile.go,
//     version.go): libseccomp compiles the profile once per architecture and
//     exports each program through a memfd; rules for syscalls newer than
//     libseccomp are written by number from sysgate's table (filter/syscalls)
//     in front of each; join puts them behind an arch dispatch, and an ENOSYS
//     stub goes in front for syscalls newer than the profile. The result is a
//     Program, cached on disk by content. Explain runs it in the interpreter
//     for every syscall of the table. This is the only group that uses
//     libseccomp and cgo.
//   - The kernel side (the kernel_*.go files): loading a Program into the
//     calling process with seccomp(2) after checking that this kernel has
//     every flag and action it uses, user notification (receiving and
//     answering notifications, handing the listener fd to the agent), and
//     what the running kernel offers: filter flags, actions, the ABIs a
//     process can enter through (the ABI probe), and the newest syscalls of
//     the table it has (the newest-syscall probe).
//   - The pure toolkit, package filter/bpf: instruction encoding, the
//     assembler the stub and the join are written with, the checker and
//     interpreter that prove every verdict without trusting libseccomp, the
//     disassembler, seccomp_data and the kernel's action-cache model. It has
//     no cgo, no libseccomp and no import of sysgate's own: data flows
//     filter -> filter/bpf, never back.
//
// It is the bottom layer of sysgate: it knows nothing of Kubernetes, bundles
// or policy. Callers validate a profile (package spec) before compiling it.
package filter
