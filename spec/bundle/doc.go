// Package bundle reads and rewrites an OCI bundle's config.json. The
// directory is resolved once, by the kernel, into a descriptor, and the
// file is read and replaced through it, so sysgate edits the file the
// runtime will open. Rendered splices the decided profile into the
// document byte for byte (every other member keeps its bytes and place),
// records the decision in a signed annotation, and hands crun a compiled
// program; WriteConfig replaces the file atomically with its mode and
// owner. It knows what is applied, not why: package spec decides.
package bundle
