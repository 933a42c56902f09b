// Package spec decides which seccomp profile a container runs with and
// carries the decision out on its bundle. It is sysgate's decision layer,
// over two subpackages:
//
//   - spec/profile: what a profile is. Parsing (strict, every error named
//     by its JSON path), validation, containerd's RuntimeDefault, Localhost
//     references resolved beneath the profile root, and CompileValid, the
//     one way from a profile to a program;
//   - spec/bundle: what a bundle is. config.json read through a directory
//     descriptor, the decided profile spliced in byte for byte, the signed
//     decision record, and the atomic write.
//
// This package holds the node Policy and the trust checks on its files,
// what a bundle says about its container (DescribeContainer), the decision
// table (Decide), CheckDecision's unconfined rule, Verify, and the create
// pipeline every caller shares: Plan checks everything and writes nothing,
// Commit writes config.json and the decision log, Prepare is both.
//
// Imports point one way: spec → spec/bundle → spec/profile → filter.
package spec
