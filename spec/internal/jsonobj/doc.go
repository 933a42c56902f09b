// Package jsonobj reads JSON objects the way every runtime will, and edits
// them byte for byte: it locates members without decoding the document,
// refuses members that Go's decoder and crun's would read differently (the
// same name twice, in any case), splices one member's new value in while
// every other byte stays as written, and places an offset as a line and
// column for error messages. The profile parser and the bundle writer share
// it, so that "a member given twice" means the same in both.
package jsonobj
