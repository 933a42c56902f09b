package denials

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/bpf"
	"github.com/sysgate/sysgate/spec"
)

// loadedProfile is a container's applied profile and its program, or why
// it could not be had.
type loadedProfile struct {
	profile *specs.LinuxSeccomp
	prog    *filter.Program
	err     error
}

// profiles loads each decided profile once, by digest: containers sharing a
// profile share the compile.
type profiles struct {
	mu       sync.Mutex
	byDigest map[string]loadedProfile
	rules    map[ruleKey]ruleAnswer // decidingRule's answers: a storm asks the same
}

type ruleKey struct {
	digest     string
	arch       uint32
	nr         int32
	code       uint32
	name       string
	bypassArch bool
}

type ruleAnswer struct {
	rule    string
	verdict uint32
}

// rule is decidingRule, remembered per profile and call.
func (p *profiles) rule(d spec.DecisionRecord, sc Syscall, arch uint32, nr int32, code uint32) (string, uint32) {
	k := ruleKey{d.Digest, arch, nr, code, sc.Name, sc.Bypass}
	p.mu.Lock()
	a, ok := p.rules[k]
	p.mu.Unlock()
	if ok {
		return a.rule, a.verdict
	}
	lp := p.load(d)
	a.rule, a.verdict = decidingRule(lp, sc, arch, nr, code)
	if lp.err == nil {
		p.mu.Lock()
		if p.rules == nil || len(p.rules) > 1<<14 {
			p.rules = map[ruleKey]ruleAnswer{}
		}
		p.rules[k] = a
		p.mu.Unlock()
	}
	return a.rule, a.verdict
}

// load reads the profile the runtime was given back from the bundle's
// config.json and checks it is the one the decision recorded: a bundle
// edited since, or a decision for another bundle, must not name a rule
// of a profile the container does not run.
func (p *profiles) load(d spec.DecisionRecord) loadedProfile {
	p.mu.Lock()
	defer p.mu.Unlock()
	if lp, ok := p.byDigest[d.Digest]; ok && lp.err == nil {
		return lp
	}
	lp := readProfile(d)
	if p.byDigest == nil {
		p.byDigest = map[string]loadedProfile{}
	}
	if len(p.byDigest) > 256 {
		clear(p.byDigest)
	}
	p.byDigest[d.Digest] = lp
	return lp
}

func readProfile(d spec.DecisionRecord) loadedProfile {
	if d.Digest == "" || d.Bundle == "" {
		return loadedProfile{err: fmt.Errorf("the decision log entry names no profile digest or bundle")}
	}
	data, err := os.ReadFile(filepath.Join(d.Bundle, "config.json"))
	if err != nil {
		return loadedProfile{err: fmt.Errorf("the bundle's config.json: %w", err)}
	}
	var cfg struct {
		Linux *struct {
			Seccomp *specs.LinuxSeccomp `json:"seccomp"`
		} `json:"linux"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil || cfg.Linux == nil || cfg.Linux.Seccomp == nil {
		return loadedProfile{err: fmt.Errorf("%s has no readable linux.seccomp", filepath.Join(d.Bundle, "config.json"))}
	}
	if got := spec.DigestOf(cfg.Linux.Seccomp); got != d.Digest {
		return loadedProfile{err: fmt.Errorf("%s holds profile %s, not the decided %s", filepath.Join(d.Bundle, "config.json"), got, d.Digest)}
	}
	prog, err := filter.Compile(cfg.Linux.Seccomp, filter.Options{})
	if err != nil {
		return loadedProfile{err: fmt.Errorf("compiling the profile again: %w", err)}
	}
	return loadedProfile{profile: cfg.Linux.Seccomp, prog: prog}
}

// decidingRule names what in the profile produced the kernel's verdict
// for the call: it runs the program in the interpreter (with the record's
// arch and number; the record carries no arguments, so zero arguments) and
// then finds the rule. The kernel's record carries the action without its
// data (ERRNO without the errno), so when the interpreter agrees on the
// action its verdict, errno included, is returned to show. A verdict the
// interpreter gives differently (the outcome depended on arguments) names
// the rules that could have given it.
func decidingRule(lp loadedProfile, sc Syscall, arch uint32, nr int32, code uint32) (rule string, verdict uint32) {
	if lp.err != nil {
		return "unknown: " + lp.err.Error(), code
	}
	ret, _, err := bpf.Run(lp.prog.Instructions, bpf.SeccompData{Nr: nr, Arch: arch})
	if err != nil {
		return "unknown: the interpreter failed: " + err.Error(), code
	}
	agree := bpf.RetAction(ret) == bpf.RetAction(code)
	verdict = code
	if agree {
		verdict = ret
	}
	var matching []string
	for i, r := range lp.profile.Syscalls {
		if !slices.Contains(r.Names, sc.Name) || !actionMatches(r.Action, r.ErrnoRet, verdict, agree) {
			continue
		}
		what := fmt.Sprintf("rule %d (%s %s)", i, strings.Join(r.Names, ","), r.Action)
		if len(r.Args) > 0 {
			what += " with argument conditions"
		}
		matching = append(matching, what)
	}
	switch {
	case !agree && len(matching) > 0:
		return strings.Join(matching, " or ") + "; the outcome depended on the arguments", verdict
	case !agree:
		return fmt.Sprintf("unknown: the interpreter gives %s for this call with zero arguments, the kernel %s", bpf.RetName(ret), ActionName(code)), verdict
	case len(matching) > 0:
		return matching[0], verdict
	case sc.Bypass && !archListed(lp.profile, sc.Arch):
		return "architecture not in the profile (bad-arch action)", verdict
	case actionMatches(lp.profile.DefaultAction, lp.profile.DefaultErrnoRet, verdict, true):
		return "default action", verdict
	case bpf.RetAction(verdict) == bpf.RetErrno && verdict&bpf.RetData == 38:
		return "ENOSYS stub (a syscall newer than the profile names)", verdict
	}
	return "default action", verdict
}

func archListed(p *specs.LinuxSeccomp, arch specs.Arch) bool {
	return slices.Contains(p.Architectures, arch)
}

// actionMatches compares a profile action with a verdict; withData also
// compares the errno.
func actionMatches(a specs.LinuxSeccompAction, errnoRet *uint, code uint32, withData bool) bool {
	switch bpf.RetAction(code) {
	case bpf.RetErrno:
		want := uint32(1) // EPERM: runc's and libseccomp's default errno
		if errnoRet != nil {
			want = uint32(*errnoRet)
		}
		return a == specs.ActErrno && (!withData || code&bpf.RetData == want)
	case bpf.RetKillProcess:
		return a == specs.ActKillProcess
	case bpf.RetKillThread:
		return a == specs.ActKill || a == specs.ActKillThread
	case bpf.RetTrap:
		return a == specs.ActTrap
	case bpf.RetUserNotif:
		return a == specs.ActNotify
	case bpf.RetTrace:
		return a == specs.ActTrace
	case bpf.RetLog:
		return a == specs.ActLog
	}
	return false
}
