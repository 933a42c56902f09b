// Package nri is sysgate's containerd NRI plugin (`sysgate nri`): it
// decides each container's seccomp profile when containerd's CRI creates
// the container, before any runtime handler runs, and adjusts the
// container's linux.seccomp through NRI. It covers every Pod on the node,
// whatever its runtime class, and it sees what no runtime wrapper sees:
// the CRI's own profile type, so an explicit Unconfined is told from a Pod
// that asked for nothing.
//
// The decision is the one every sysgate integration makes (spec.PlanNRI:
// the policy file, the decision table, Localhost resolution beneath
// profile_root, the compile cache, the runtime's enforcement check, the
// decision log); this package only turns what NRI shows of a container
// into the spec the decision reads (container.go), and the decision into
// an NRI adjustment (adjust.go), refusing profiles NRI cannot carry
// exactly (carry.go).
//
// Kept out of sysgate-runc: the plugin links ttrpc and NRI's protobufs, and
// sysgate-runc is exec'd per create.
package nri
