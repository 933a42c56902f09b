// Package verify says whether the seccomp filters the kernel holds for a
// container are the one sysgate decided, and whether that decision still
// holds. Its one job is the join: containers found by package node, the
// decisions sysgate recorded (the decision log, the signed record in the
// bundle), the decided profile recompiled, and the installed filters
// compared with it by meaning, not bytes: both run in the interpreter
// (filter/bpf) for every ABI of the x86 family, every syscall number up to
// a bound and some above, and argument values on both sides of every
// boundary the profile or the installed programs draw, with stacked
// filters combined as the kernel combines them.
//
// It fails closed: a container whose filters could not be read, whose
// decided profile cannot be found, or whose comparison could not run is
// reported as unverified, never as equal.
package verify
