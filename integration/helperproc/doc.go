// Package helperproc runs `sysgate helper` as its own process, the way the
// systemd unit does on a node, for the CRI suite, the benchmark, the demo
// and the CLI tests.
package helperproc
