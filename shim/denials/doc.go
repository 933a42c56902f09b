// Package denials is the denial collector of `sysgate helper` (policy
// denials = true) and what `sysgate denials` reads: it takes the kernel's
// seccomp records (audit type 1326) from the audit netlink read-log group,
// or from /dev/kmsg where audit is off, attributes each to a container
// (pid, cgroup, container id, the decision log's entry), names the syscall
// per ABI and the profile rule that denied it, counts records lost on the
// way, and writes deduplicated JSON lines to the policy's denial_log. It
// also holds the helper's Prometheus metrics.
//
// It sits between shim (which runs it) and spec (whose decision log it
// reads), and uses filter to name the deciding rule.
package denials
