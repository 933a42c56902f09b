package filter

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/filter/bpf"
)

// Program is a compiled seccomp filter: what seccomp(2) loads, plus what the
// loader and the explainer need to know about it.
type Program struct {
	// Instructions is the whole filter: the ENOSYS stub (StubLength
	// instructions, possibly none) followed by libseccomp's program.
	Instructions []bpf.Instruction
	// StubLength is how many leading instructions are sysgate's ENOSYS stub.
	StubLength int
	// Flags are the SECCOMP_FILTER_FLAG_* bits for seccomp(2), including
	// NEW_LISTENER when a rule uses SCMP_ACT_NOTIFY.
	Flags uint
	// Arches are the architectures the filter has rules for, native first.
	Arches []specs.Arch
	// ListenerPath is where the user-notification fd must be sent.
	ListenerPath string
	// ListenerMetadata is passed to the listener along with the fd.
	ListenerMetadata string
	// Ignored lists syscall names that neither libseccomp nor sysgate's
	// table knows on any of Arches; like runc, the rules naming them are
	// left out.
	Ignored []string
	// ForeignArches are the profile's architectures of other machines
	// (IsForeignArch), left out: their sections never match on this node.
	ForeignArches []specs.Arch `json:",omitempty"`
	// ByNumber lists, per ABI, the syscalls sysgate filters by their
	// number because libseccomp cannot name them there (numbered.go).
	ByNumber []NumberedSyscall
}

// Bytes is the program as the raw sock_filter array seccomp(2) takes.
func (p *Program) Bytes() []byte { return bpf.Encode(p.Instructions) }

// NeedsListener reports whether loading returns a user-notification fd.
func (p *Program) NeedsListener() bool { return p.Flags&flagNewListener != 0 }

// FlagNames renders Flags with the SECCOMP_FILTER_FLAG_* names.
func (p *Program) FlagNames() []string {
	names := []string{}
	for _, f := range []struct {
		bit  uint
		name string
	}{
		{flagTSync, "SECCOMP_FILTER_FLAG_TSYNC"},
		{flagLog, "SECCOMP_FILTER_FLAG_LOG"},
		{flagSpecAllow, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"},
		{flagNewListener, "SECCOMP_FILTER_FLAG_NEW_LISTENER"},
		{flagTSyncESRCH, "SECCOMP_FILTER_FLAG_TSYNC_ESRCH"},
		{flagWaitKillableRecv, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"},
	} {
		if p.Flags&f.bit != 0 {
			names = append(names, f.name)
		}
	}
	return names
}
