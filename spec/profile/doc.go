// Package profile is what sysgate knows of an OCI/Docker seccomp profile
// before it is compiled: Load and Parse read one strictly (anything a
// lenient decoder would silently drop or reinterpret is an error naming the
// JSON path); Validate reports what the compiler would refuse or probably
// misread; RuntimeDefault is containerd's default profile for a capability
// set; Ref and LoadLocalhost are the Pod's references, resolved beneath the
// profile root through a descriptor; CompileValid is the one way from a
// profile to a program. `sysgate profile *` uses it alone.
//
// It reads filter's name tables, so that "known" means the same when
// validating and when compiling, and knows nothing of bundles, policy or
// BPF.
package profile
