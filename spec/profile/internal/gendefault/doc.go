// Command gendefault writes spec/profile/runtime_default_table_*.go:
// containerd's RuntimeDefault profile (contrib/seccomp.DefaultProfile) for
// the GOARCH it runs on, taken apart into
// the pieces it is assembled from — the base rules, one block per
// capability, and the rules added when CAP_SYS_ADMIN is absent — so that
// sysgate-runc can assemble it without linking containerd's packages, whose
// initialisation costs about 1.5 ms on every container create.
//
// containerd renders the profile for runtime.GOARCH (its architectures and
// its arch-specific rules), so the arm64 pieces come from an arm64 build of
// this command, run under qemu's user-mode emulator on an x86 machine
// (go generate does it; hack/install-cross-deps.sh arm64 installs it).
//
// The pieces come from running containerd's own function here, and
// TestRuntimeDefaultMatchesContainerd compares the assembled profile with
// containerd's for every subset of the capabilities it looks at, so a
// containerd upgrade that changes the profile fails the tests until this is
// run again (go generate ./spec/profile/).
package main
