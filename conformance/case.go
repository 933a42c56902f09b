package conformance

import (
	"fmt"
	"path"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Case is one conformance check: the profile a container gets, what the
// container does under it, and the outcome the cited rule requires.
type Case struct {
	// Name is "group/name"; --case globs match it.
	Name string
	// Rule cites the rule the case checks: a runtime-spec section, a
	// Kubernetes document or the seed document (see rules.go).
	Rule string
	// Summary says in one line what the case shows.
	Summary string
	// Profile is the bundle's linux.seccomp; nil leaves it out. A
	// listenerPath of ListenerAgent or ListenerMissing is replaced when the
	// case runs.
	Profile *specs.LinuxSeccomp
	// Do is what the container does.
	Do Action
	// Want is what the rule requires.
	Want Expect
	// NeedsX32 skips the case on kernels without the x32 ABI, where an x32
	// call the filter lets through also fails with ENOSYS: the outcome
	// could not tell the filter from the kernel.
	NeedsX32 bool
}

// Placeholders for listenerPath, replaced by the Runner.
const (
	// ListenerAgent becomes the socket of the Runner's seccomp agent, which
	// checks the container process state it receives and answers each
	// notification with AgentErrno.
	ListenerAgent = "<sysgate-conformance-agent>"
	// ListenerMissing becomes a path where nothing listens.
	ListenerMissing = "<sysgate-conformance-nothing-listens>"
)

// ActionKind says what the container runs.
type ActionKind int

const (
	// Syscall runs the probe: one system call through one ABI.
	Syscall ActionKind = iota
	// Status runs `sysgate-probe --status`: the Seccomp field of
	// /proc/self/status.
	Status
	// Shell runs a busybox command line.
	Shell
)

// Action is what the container does under the profile.
type Action struct {
	Kind ActionKind
	// ABI is the probe's entry point: "" or native, i386, x32.
	ABI string
	// Syscall is resolved to the ABI's own number.
	Syscall string
	// Args are the probe's arguments: integers, "s:TEXT", "b:N".
	Args []string
	// Command is the Shell command line.
	Command []string
	// Exec runs the action with the runtime's `exec` in a container that
	// was created and started with `sleep` as its init process, instead of
	// as the init process of `run`.
	Exec bool
}

// Outcomes besides the probe's own ("allowed", "errno:EPERM", "trap",
// "killed:SIGSYS", ...), "seccomp:N" for Status and "exit:N[: last line]"
// for Shell.
const (
	// OutcomeRefused: the runtime did not start the container's process;
	// what the rules that say a runtime MUST fail require.
	OutcomeRefused = "refused"
)

// Expect is the outcome a rule requires.
type Expect struct {
	Outcome string
	// Or lists other outcomes the rule allows.
	Or []string
	// Audited: the kernel must also write a seccomp audit record for the
	// call (SCMP_ACT_LOG, SECCOMP_FILTER_FLAG_LOG).
	Audited bool
}

// auditedSuffix marks an outcome that came with an audit record.
const auditedSuffix = " +audit"

// String is how reports show the expectation.
func (e Expect) String() string {
	s := e.Outcome
	for _, o := range e.Or {
		s += " | " + o
	}
	if e.Audited {
		s += auditedSuffix
	}
	return s
}

// matches reports whether an observed outcome satisfies e.
func (e Expect) matches(observed string, audited bool) bool {
	if e.Audited && !audited {
		return false
	}
	if observed == e.Outcome {
		return true
	}
	for _, o := range e.Or {
		if observed == o {
			return true
		}
	}
	return false
}

// check reports what is wrong with a case definition.
func (c Case) check() error {
	switch {
	case c.Name == "" || !strings.Contains(c.Name, "/") || strings.ContainsAny(c.Name, " \t*?[]"):
		return fmt.Errorf("case %q: the name must be group/name without spaces or glob characters", c.Name)
	case c.Rule == "":
		return fmt.Errorf("case %s: no rule cited", c.Name)
	case c.Summary == "":
		return fmt.Errorf("case %s: no summary", c.Name)
	case c.Want.Outcome == "":
		return fmt.Errorf("case %s: no expected outcome", c.Name)
	case c.Do.Kind == Syscall && c.Do.Syscall == "":
		return fmt.Errorf("case %s: a Syscall action needs a syscall name", c.Name)
	case c.Do.Kind == Shell && len(c.Do.Command) == 0:
		return fmt.Errorf("case %s: a Shell action needs a command", c.Name)
	case c.Do.Kind == Shell && !c.Do.Exec:
		// Under run, a failing command and a runtime that refused the
		// config both end with a message and status 1.
		return fmt.Errorf("case %s: a Shell action must run with exec, where create tells a refusal apart", c.Name)
	case c.Want.Audited && c.Do.Kind != Syscall:
		return fmt.Errorf("case %s: only probe calls can be matched with audit records", c.Name)
	}
	return nil
}

// Select returns the cases whose names match any of the globs (path.Match
// syntax, so "action/*" matches one group); no globs select every case. A
// glob that matches nothing is an error: a typo must not select nothing
// and pass.
func Select(cases []Case, globs []string) ([]Case, error) {
	if len(globs) == 0 {
		return cases, nil
	}
	var out []Case
	used := make([]bool, len(globs))
	for _, c := range cases {
		selected := false
		for i, g := range globs {
			ok, err := path.Match(g, c.Name)
			if err != nil {
				return nil, fmt.Errorf("--case %q: %w", g, err)
			}
			used[i] = used[i] || ok
			selected = selected || ok
		}
		if selected {
			out = append(out, c)
		}
	}
	for i, g := range globs {
		if !used[i] {
			return nil, fmt.Errorf("--case %q matches no case", g)
		}
	}
	return out, nil
}
