package profile

import specs "github.com/opencontainers/runtime-spec/specs-go"

// AllowsEverything reports whether a profile lets every call through
// whatever its arguments: defaultAction ALLOW or LOG and every rule's
// action ALLOW or LOG. (Its compiled program still kills calls through an
// ABI it does not list, which no ordinary process makes.)
func AllowsEverything(p *specs.LinuxSeccomp) bool {
	if p == nil {
		return false
	}
	allows := func(a specs.LinuxSeccompAction) bool { return a == specs.ActAllow || a == specs.ActLog }
	if !allows(p.DefaultAction) {
		return false
	}
	for _, r := range p.Syscalls {
		if !allows(r.Action) {
			return false
		}
	}
	return true
}
