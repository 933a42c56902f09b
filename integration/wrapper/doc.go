// Package wrapper tests sysgate-runc against Debian's real runc and crun:
// bundles built from busybox-static run through the wrapper, and what the
// container can and cannot do is observed inside it. The tests need root
// and skip, saying why, without it.
package wrapper
