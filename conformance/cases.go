package conformance

import (
	"fmt"
	"sync"
)

// Cases returns every case, in report order: actions, spec MUSTs,
// argument operators, architectures, the ENOSYS stub, flags, the
// container's seccomp status (init and exec), syscall names, syscalls newer
// than libseccomp, and the seed document's checks.
func Cases() []Case { return append([]Case(nil), allCases()...) }

var allCases = sync.OnceValue(func() []Case {
	var all []Case
	for _, group := range [][]Case{
		actionCases(), mustCases(), argCases(), archCases(), enosysCases(),
		flagCases(), statusCases(), nameCases(), newerCases(), seedCases(),
	} {
		all = append(all, group...)
	}
	seen := make(map[string]bool, len(all))
	for _, c := range all {
		if err := c.check(); err != nil {
			panic(err)
		}
		if seen[c.Name] {
			panic(fmt.Sprintf("conformance: case %s defined twice", c.Name))
		}
		seen[c.Name] = true
	}
	return all
})

// probeCall is the common Action: the probe makes one call natively.
func probeCall(name string, args ...string) Action {
	return Action{Kind: Syscall, Syscall: name, Args: args}
}

// probeCallABI makes the call through another entry point.
func probeCallABI(abi, name string, args ...string) Action {
	return Action{Kind: Syscall, ABI: abi, Syscall: name, Args: args}
}

func want(outcome string, or ...string) Expect { return Expect{Outcome: outcome, Or: or} }
