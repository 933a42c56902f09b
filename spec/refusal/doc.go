// Package refusal tells a create that sysgate refused apart from one that
// failed. A refusal is the input's fault and is final: a malformed bundle or
// annotation, a policy that forbids what was asked, an invalid profile, a
// path that leaves where it must stay. Anything else is an internal fault
// (the policy cannot be read, the disk is full, the runtime is missing),
// which an operator fixes on the node and a retry may survive. Callers ask
// with Of, or with errors.As on *Error; docs/design.md lists the exit
// codes each binary derives from it.
package refusal
