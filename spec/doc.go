// Package spec is sysgate's profile-types layer: profile types, node policy,
// Localhost resolution, and rewriting the OCI spec so that a container runs
// with the seccomp profile its Pod asked for.
//
// It holds:
//
//   - profiles: LoadProfile and ParseProfile read an OCI/Docker JSON seccomp
//     profile strictly (anything a lenient decoder would silently drop or
//     reinterpret is an error naming the JSON path); ValidateProfile reports
//     what the compiler would refuse or probably misread; RuntimeDefault is
//     containerd's default profile; Localhost references resolve beneath
//     the profile root;
//   - the decision: the node Policy (and the trust checks on its files),
//     what a bundle says about its container (DescribeContainer), the
//     decision table (Decide), CheckDecision's unconfined rule, and Verify,
//     which proves the decided profile compiles;
//   - the bundle: config.json read through a directory descriptor, the
//     decided profile spliced in, written back atomically.
//
// Package spec sits between shim and filter: it reads filter's name tables so
// that "known" means the same when validating and when compiling, and knows
// nothing of BPF.
package spec
