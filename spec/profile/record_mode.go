package profile

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// denying is every action that stops a call or the process.
func denying(a specs.LinuxSeccompAction) bool {
	switch a {
	case specs.ActAllow, specs.ActLog:
		return false
	}
	return true // ERRNO, KILL*, TRAP, TRACE, NOTIFY
}

// RecordMode is the profile a recorded workload runs under: p with every
// denying outcome, the default and each rule's, turned into LOG, so that
// the workload keeps working and every call still runs through a filter
// (the recorder counts the calls of tasks that hold one). Rules that would
// then equal the default are dropped, as libseccomp requires.
func RecordMode(p *specs.LinuxSeccomp) *specs.LinuxSeccomp {
	out := *p
	out.ListenerPath, out.ListenerMetadata = "", ""
	out.DefaultErrnoRet = nil
	if denying(p.DefaultAction) {
		out.DefaultAction = specs.ActLog
	}
	out.Syscalls = nil
	for _, rule := range p.Syscalls {
		r := rule
		if denying(r.Action) {
			r.Action, r.ErrnoRet = specs.ActLog, nil
		}
		if r.Action == out.DefaultAction {
			continue
		}
		out.Syscalls = append(out.Syscalls, r)
	}
	// A user-notification listener would be gone; WAIT_KILLABLE_RECV
	// needs one.
	var flags []specs.LinuxSeccompFlag
	for _, f := range p.Flags {
		if f != "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" {
			flags = append(flags, f)
		}
	}
	if p.Flags != nil {
		out.Flags = flags
	}
	return &out
}
