package conformance

import (
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter"
)

// Profiles for cases, built from a few shapes. Rules target syscalls that
// neither the runtimes nor the probe make after the filter is loaded (mkdir,
// umask, faccessat2, keyctl), so a rule changes the verdict of the probe's
// call and nothing else.

// x86Family is what containerd's and Docker's default profiles list on
// amd64: the same rules for every x86 entry point.
var x86Family = []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}

// Arguments the probe passes to mkdir: a path on the container's /tmp
// tmpfs and mode 0755.
var mkdirArgs = []string{"s:/tmp/sysgate-conformance", "493"}

// Errnos that nothing but the rule under test returns, so that seeing one
// proves the rule (and not, say, the default action) decided.
const (
	errnoEXDEV = 18 // EXDEV: custom errnoRet; also what the notify agent answers
	errnoENXIO = 6  // ENXIO: custom defaultErrnoRet, as in runc's seccomp.bats
)

func uintPtr(v uint) *uint { return &v }

// allowing is a profile that allows everything but what rules says, for the
// x86 family.
func allowing(rules ...specs.LinuxSyscall) *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: x86Family, Syscalls: rules}
}

// rule is one syscalls[] entry.
func rule(action specs.LinuxSeccompAction, names ...string) specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: names, Action: action}
}

// ruleErrno is an entry with an errnoRet.
func ruleErrno(action specs.LinuxSeccompAction, errno uint, names ...string) specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: names, Action: action, ErrnoRet: uintPtr(errno)}
}

// ruleArgs is an ERRNO(EXDEV) entry with argument conditions.
func ruleArgs(name string, args ...specs.LinuxSeccompArg) specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: []string{name}, Action: specs.ActErrno, ErrnoRet: uintPtr(errnoEXDEV), Args: args}
}

// denying is an allow-list profile, the seed's pattern: the default action
// for everything, and SCMP_ACT_ALLOW for every x86_64 syscall up to maxNr
// except the excluded ones. Allowing nearly everything keeps the runtime's
// own calls between loading the filter and execve, and the probe's start-up,
// working under any default action.
func denying(def specs.LinuxSeccompAction, maxNr int32, except ...string) *specs.LinuxSeccomp {
	skip := make(map[string]bool, len(except))
	for _, n := range except {
		skip[n] = true
	}
	var names []string
	for _, n := range x86_64Names() {
		if !skip[n.name] && n.nr <= maxNr {
			names = append(names, n.name)
		}
	}
	return &specs.LinuxSeccomp{
		DefaultAction: def,
		Architectures: x86Family,
		Syscalls:      []specs.LinuxSyscall{{Names: names, Action: specs.ActAllow}},
	}
}

// anyNr: no limit for denying.
const anyNr = 1 << 30

type namedNr struct {
	name string
	nr   int32
}

var x86_64NameList = sync.OnceValue(func() []namedNr {
	var out []namedNr
	// x86_64 numbers stop below 512, where the x32-only entries begin.
	for nr := int32(0); nr < 512; nr++ {
		if name, ok := filter.SyscallName(nr, specs.ArchX86_64); ok && filter.LibseccompKnows(name, specs.ArchX86_64) {
			out = append(out, namedNr{name, nr})
		}
	}
	return out
})

// x86_64Names lists the syscalls libseccomp knows on x86_64, by number:
// the names runtimes that compile with libseccomp read as sysgate does.
// Syscalls newer than libseccomp have cases of their own (cases_newer.go).
func x86_64Names() []namedNr { return x86_64NameList() }

// with returns a copy of p changed by edit: cases share base shapes.
func with(p *specs.LinuxSeccomp, edit func(*specs.LinuxSeccomp)) *specs.LinuxSeccomp {
	c := *p
	c.Architectures = append([]specs.Arch(nil), p.Architectures...)
	c.Flags = append([]specs.LinuxSeccompFlag(nil), p.Flags...)
	c.Syscalls = append([]specs.LinuxSyscall(nil), p.Syscalls...)
	edit(&c)
	return &c
}
