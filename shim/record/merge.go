package record

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Named is a profile and the file it came from, for errors.
type Named struct {
	Name    string
	Profile *specs.LinuxSeccomp
}

// family groups the architectures one kernel can report side by side.
func family(a specs.Arch) string {
	switch a {
	case specs.ArchX86_64, specs.ArchX86, specs.ArchX32:
		return "x86"
	case specs.ArchAARCH64, specs.ArchARM:
		return "arm"
	}
	return string(a)
}

// Merge is the union of allowlists: across replicas and runs, what any of
// them may do. They must share their default (action and errno), their
// architecture family and their listener; the union's architectures and
// flags are all of theirs. A syscall named by unconditional rules of
// different actions, other than the default, has no union: an error.
// Unconditional rules of one action are gathered into one rule; rules
// with conditions are kept as they are, except where an unconditional rule
// of the same action already decides the syscall.
func Merge(in []Named) (*specs.LinuxSeccomp, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("merge needs at least two profiles, got %d", len(in))
	}
	first := in[0]
	out := &specs.LinuxSeccomp{
		DefaultAction:    first.Profile.DefaultAction,
		DefaultErrnoRet:  first.Profile.DefaultErrnoRet,
		ListenerPath:     first.Profile.ListenerPath,
		ListenerMetadata: first.Profile.ListenerMetadata,
	}
	for _, n := range in {
		p := n.Profile
		if p.DefaultAction != out.DefaultAction || errnoOf(p.DefaultErrnoRet) != errnoOf(out.DefaultErrnoRet) {
			return nil, fmt.Errorf("%s has defaultAction %s, %s has %s: profiles with different defaults have no union; convert one first",
				first.Name, describeDefault(first.Profile), n.Name, describeDefault(p))
		}
		if p.ListenerPath != out.ListenerPath || p.ListenerMetadata != out.ListenerMetadata {
			return nil, fmt.Errorf("%s and %s name different listeners (%q, %q)", first.Name, n.Name, out.ListenerPath, p.ListenerPath)
		}
		for _, a := range p.Architectures {
			if len(out.Architectures) > 0 && family(a) != family(out.Architectures[0]) {
				return nil, fmt.Errorf("%s lists %s, which no kernel reports beside %s (listed before %s): profiles for different machines have no union", n.Name, a, out.Architectures[0], n.Name)
			}
			if !slices.Contains(out.Architectures, a) {
				out.Architectures = append(out.Architectures, a)
			}
		}
		flags := p.Flags
		if flags == nil {
			flags = []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagSpecAllow} // what absent means
		}
		for _, f := range flags {
			if !slices.Contains(out.Flags, f) {
				out.Flags = append(out.Flags, f)
			}
		}
	}
	if reflect.DeepEqual(out.Flags, []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagSpecAllow}) {
		out.Flags = nil
	}

	// unconditional[name] is the action an unconditional rule gives it.
	unconditional := map[string]specs.LinuxSeccompAction{}
	errnoOfName := map[string]uint{}
	from := map[string]string{}
	type key struct {
		action specs.LinuxSeccompAction
		errno  uint
	}
	var order []key
	names := map[key][]string{}
	var conditional []specs.LinuxSyscall
	for _, n := range in {
		for _, rule := range n.Profile.Syscalls {
			if rule.Action == out.DefaultAction && errnoOf(rule.ErrnoRet) == errnoOf(out.DefaultErrnoRet) {
				continue
			}
			k := key{rule.Action, errnoOf(rule.ErrnoRet)}
			if len(rule.Args) > 0 {
				conditional = append(conditional, rule)
				continue
			}
			for _, name := range rule.Names {
				if a, ok := unconditional[name]; ok {
					if a != rule.Action || errnoOfName[name] != k.errno {
						return nil, fmt.Errorf("%s: %s has %s in %s and %s in %s: no union of two actions", n.Name, name, rule.Action, from[name], a, n.Name)
					}
					continue
				}
				unconditional[name], errnoOfName[name], from[name] = rule.Action, k.errno, n.Name
				if _, ok := names[k]; !ok {
					order = append(order, k)
				}
				names[k] = append(names[k], name)
			}
		}
	}
	for _, k := range order {
		slices.Sort(names[k])
		rule := specs.LinuxSyscall{Names: names[k], Action: k.action}
		if k.action == specs.ActErrno || k.action == specs.ActTrace {
			e := k.errno
			rule.ErrnoRet = &e
		}
		out.Syscalls = append(out.Syscalls, rule)
	}
	for _, rule := range conditional {
		var keep []string
		for _, name := range rule.Names {
			if a, ok := unconditional[name]; ok {
				if a != rule.Action {
					return nil, fmt.Errorf("%s: one profile gives it %s for every call, another %s for some: no union of two actions", name, a, rule.Action)
				}
				continue // the unconditional rule already decides it
			}
			keep = append(keep, name)
		}
		if len(keep) == 0 {
			continue
		}
		rule.Names = keep
		if !slices.ContainsFunc(out.Syscalls, func(r specs.LinuxSyscall) bool { return reflect.DeepEqual(r, rule) }) {
			out.Syscalls = append(out.Syscalls, rule)
		}
	}
	return out, nil
}

func errnoOf(p *uint) uint {
	if p == nil {
		return 1 // EPERM: runc's, crun's and sysgate's default errno
	}
	return *p
}

func describeDefault(p *specs.LinuxSeccomp) string {
	var b strings.Builder
	b.WriteString(string(p.DefaultAction))
	if p.DefaultAction == specs.ActErrno || p.DefaultAction == specs.ActTrace {
		fmt.Fprintf(&b, "(%d)", errnoOf(p.DefaultErrnoRet))
	}
	return b.String()
}
