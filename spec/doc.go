// Package spec is sysgate's profile-types layer: profile types, node policy,
// Localhost resolution, and rewriting the OCI spec so that a container runs
// with the seccomp profile its Pod asked for.
//
// For now it holds the profile parser and validator and the RuntimeDefault
// profile:
//
//   - LoadProfile and ParseProfile read an OCI/Docker JSON seccomp profile,
//     the format of Kubernetes Localhost profiles, strictly: anything that a
//     lenient decoder would silently drop or reinterpret (unknown fields,
//     duplicate fields, wrong types, trailing data, NUL bytes, Docker's
//     conditional rules) is an error naming the JSON path, because a profile
//     that means something other than what its author wrote is a hole in the
//     gate.
//   - ValidateProfile reports what the compiler in package filter would
//     refuse, and what it would accept but probably not as intended.
//   - RuntimeDefault is containerd's default profile, so that the
//     RuntimeDefault a Pod asks for is the one the kubelet documents.
//
// Package spec sits between shim and filter: it reads filter's name tables so
// that "known" means the same when validating and when compiling, and knows
// nothing of BPF.
package spec
