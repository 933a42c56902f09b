// Package install adds sysgate's runtime handler to the container engines'
// configuration files and takes it out again: containerd (config version 2,
// 1.6/1.7, and version 3, 2.x), CRI-O (a drop-in file), podman
// (containers.conf) and Docker (daemon.json).
//
// Every edit is a list of insertions into the file as it was, never a
// re-encoding: the rest of the file keeps every byte, comment and quirk the
// operator wrote, and uninstalling removes exactly the inserted text, from
// the record install leaves (Record). An edit is verified before it is
// written: the new file must parse, and decode to the old one plus the
// handler and nothing else; otherwise nothing is written. Files are replaced
// atomically (a temporary file in the same directory, renamed) with the old
// file's mode and owner.
//
// `sysgate install`, `sysgate uninstall` and `sysgate doctor`, and through
// them the DaemonSet's installer, use this one implementation.
package install
