// Package conformance is sysgate's seccomp conformance suite for any OCI
// runtime: it checks that a runtime enforces linux.seccomp the way the OCI
// runtime spec (config-linux.md, "Seccomp"), Kubernetes and the seed
// document require, and prints a verdict per case.
//
// Cases are data (cases_*.go): a profile, what the container does under it
// (one call of the static syscall probe through the native, i386 or x32
// entry, a read of /proc/self/status, or a shell command), and the outcome
// the cited rule requires. The Runner builds one busybox bundle per case
// with the probe copied in, runs it through the runtime under test with a
// private --root (`run`, or `create`/`start`/`exec` for exec'd processes),
// answers SCMP_ACT_NOTIFY through its own seccomp agent at listenerPath,
// reads the kernel's seccomp audit records when a case needs them, and
// compares what the kernel did with what the rule requires.
//
// A runtime that refuses a configuration is an outcome ("refused"): it is
// what the cases for the spec's MUSTs expect. Where a runtime is known to
// deviate from a rule, an expected-failures file (Deviations) marks the case
// XFAIL, with the reason, instead of hiding it: the deviation stays in the
// report, and a case that starts passing (XPASS) fails the run so the list
// stays true.
package conformance
