// Package record turns what a recording observed into a profile and writes
// it: an allowlist (defaultAction SCMP_ACT_ERRNO) of exactly the syscalls
// seen, the architectures seen plus the native one, and the recording's
// facts (runtime, kernel, image, time, calls counted) in its comment. It
// also turns a profile into its record-mode form (every denying outcome
// LOG, so the workload keeps running while it is observed), merges
// recordings, and prints the SPO SeccompProfile form.
//
// A profile is written under its finished name only when the recording
// lost nothing; otherwise under "<name>.incomplete.json" and the caller
// says so loudly. Writes go through a temporary file and a rename, and a
// lock on "<name>.lock" keeps two recordings of one name apart.
//
// It does not observe anything itself: the counts come from
// filter/observe (or another source) through Calls, so that sysgate-runc,
// which imports the shim layer, links no eBPF library.
package record
