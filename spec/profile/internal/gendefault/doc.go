// Command gendefault writes spec/profile/runtime_default_table.go: containerd's
// RuntimeDefault profile (contrib/seccomp.DefaultProfile) taken apart into
// the pieces it is assembled from — the base rules, one block per
// capability, and the rules added when CAP_SYS_ADMIN is absent — so that
// sysgate-runc can assemble it without linking containerd's packages, whose
// initialisation costs about 1.5 ms on every container create.
//
// The pieces come from running containerd's own function here, and
// TestRuntimeDefaultMatchesContainerd compares the assembled profile with
// containerd's for every subset of the capabilities it looks at, so a
// containerd upgrade that changes the profile fails the tests until this is
// run again (go generate ./spec/profile/).
package main
