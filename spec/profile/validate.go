package profile

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/syscalls"
)

// Severity says whether a Finding stops the profile (Error), deserves a
// look (Warning), or only says how sysgate will treat it (Info).
type Severity int

const (
	SeverityError Severity = iota
	SeverityWarning
	SeverityInfo
)

func (s Severity) String() string {
	switch s {
	case SeverityError:
		return "error"
	case SeverityWarning:
		return "warning"
	case SeverityInfo:
		return "info"
	}
	return "Severity(" + strconv.Itoa(int(s)) + ")"
}

// Finding is one problem in a profile. Path is a JSON path in the same
// spelling as ParseError's, such as "syscalls[4].names[2]"; Message says
// what is wrong and what to do about it.
type Finding struct {
	Severity Severity
	Path     string
	Message  string
}

func (f Finding) String() string {
	if f.Path == "" {
		return f.Severity.String() + ": " + f.Message
	}
	return f.Severity.String() + ": " + f.Path + ": " + f.Message
}

const (
	// maxErrno is the kernel's MAX_ERRNO: a larger return value is not an
	// error number to userspace.
	maxErrno = 4095
	// maxArgIndex: a syscall has at most six arguments.
	maxArgIndex = 5
	// maxRules bounds the rule count: the kernel refuses a filter longer than
	// BPF_MAXINSNS (4096) instructions, and every rule costs at least one.
	maxRules = 4096
	// eperm is the errno the runtimes return when SCMP_ACT_ERRNO or
	// SCMP_ACT_TRACE carries no errnoRet.
	eperm = 1
)

// Validate checks a parsed profile against what the compiler in
// package filter, libseccomp and the kernel accept, and against common
// mistakes that they accept silently. Errors mean the profile must not be
// used; warnings mean it will work, perhaps not as its author meant. The
// findings are sorted: errors first, then by path, indices in numeric order.
func Validate(p *specs.LinuxSeccomp) []Finding {
	if p == nil {
		return []Finding{{Severity: SeverityError, Message: "no profile; give a seccomp profile"}}
	}
	v := &validator{p: p}
	v.checkDefault()
	v.checkArchitectures()
	v.checkFlags()
	v.checkListener()
	v.checkRules()
	slices.SortStableFunc(v.findings, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Severity, b.Severity),
			comparePaths(a.Path, b.Path),
			strings.Compare(a.Message, b.Message),
		)
	})
	return v.findings
}

type validator struct {
	p        *specs.LinuxSeccomp
	findings []Finding
}

func (v *validator) errorf(path, format string, args ...any) {
	v.findings = append(v.findings, Finding{Severity: SeverityError, Path: path, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) warnf(path, format string, args ...any) {
	v.findings = append(v.findings, Finding{Severity: SeverityWarning, Path: path, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) infof(path, format string, args ...any) {
	v.findings = append(v.findings, Finding{Severity: SeverityInfo, Path: path, Message: fmt.Sprintf(format, args...)})
}

func listOf(names []string) string { return strings.Join(names, ", ") }

// takesErrno reports whether errnoRet means anything for the action: the
// runtime-spec says errnoRet MUST only be set for these, though runc ignores
// it elsewhere.
func takesErrno(a specs.LinuxSeccompAction) bool {
	return a == specs.ActErrno || a == specs.ActTrace
}

func (v *validator) checkDefault() {
	p := v.p
	switch {
	case p.DefaultAction == "":
		v.errorf("defaultAction", "missing; set the action for syscalls no rule matches, usually SCMP_ACT_ERRNO (one of %s)", listOf(filter.KnownActions()))
	case !filter.IsKnownAction(p.DefaultAction):
		v.errorf("defaultAction", "%q is not a seccomp action; use one of %s", clip(string(p.DefaultAction)), listOf(filter.KnownActions()))
	case p.DefaultAction == specs.ActNotify:
		v.errorf("defaultAction", "SCMP_ACT_NOTIFY cannot be used as default action (runc's words): the runtime itself makes syscalls (write, to send the listener fd) after the filter is loaded; use it on specific rules")
	case p.DefaultAction == specs.ActAllow || p.DefaultAction == specs.ActLog:
		v.warnf("defaultAction", "%s makes the profile a denylist: syscalls added to new kernels are allowed; prefer SCMP_ACT_ERRNO with rules that allow what the workload needs", p.DefaultAction)
	}
	if p.DefaultErrnoRet != nil {
		if p.DefaultAction != "" && !takesErrno(p.DefaultAction) {
			v.errorf("defaultErrnoRet", "set with defaultAction %s, which returns no errno; remove it or use SCMP_ACT_ERRNO or SCMP_ACT_TRACE", clip(string(p.DefaultAction)))
		}
		if *p.DefaultErrnoRet > maxErrno {
			v.errorf("defaultErrnoRet", "%d is larger than the largest errno (%d); use an errno such as 1 (EPERM) or 38 (ENOSYS)", *p.DefaultErrnoRet, maxErrno)
		}
	}
}

func (v *validator) checkArchitectures() {
	arches := v.p.Architectures
	seen := make(map[specs.Arch]bool)
	for i, a := range arches {
		path := joinIndex("architectures", i)
		switch {
		case filter.IsForeignArch(a) && bigEndian[a]:
			v.warnf(path, "%s is another machine's architecture, and big-endian: sysgate leaves it out, but runc cannot load it beside this node's (%s) family (libseccomp: \"numerical argument out of domain\"), so under runc the container does not start; keep big-endian architectures in a profile of their own", a, nodeFamily())
		case filter.IsForeignArch(a):
			v.infof(path, "%s is another machine's architecture: an %s kernel never reports it, so its rules never match here; sysgate leaves it out of the filter (runc compiles it, to the same effect)", a, nodeFamily())
		case !filter.IsKnownArch(a):
			v.errorf(path, "%q is not an architecture libseccomp knows; use the SCMP_ARCH_* names (on %s nodes: %s)", clip(string(a)), nodeFamily(), listOf(slices.Sorted(slices.Values(archNames(filter.NodeArches())))))
		case seen[a]:
			v.warnf(path, "%s is listed twice; remove one", a)
		}
		seen[a] = true
	}
	// Under a filter that does not list an ABI, libseccomp's bad-arch
	// action kills the caller.
	family := filter.NodeArches()
	if len(family) == 0 {
		return
	}
	native, others := family[0], archNames(family[1:])
	if len(arches) == 0 {
		v.warnf("architectures", "none listed, so the filter covers only the native %s ABI: processes that use the %s entry points are killed; list %s to give them the same rules", shortArch(native), orList(shortArches(family[1:])), andList(archNames(family)))
		return
	}
	if !slices.ContainsFunc(arches, filter.IsNodeArch) {
		v.warnf("architectures", "lists no architecture of an %s node, so here the filter covers only the native %s ABI and kills processes that use the %s entry points; add %s", nodeFamily(), shortArch(native), orList(shortArches(family[1:])), andList(archNames(family)))
		return
	}
	if !seen[native] {
		return
	}
	var missing []string
	for _, a := range others {
		if !seen[specs.Arch(a)] {
			missing = append(missing, a)
		}
	}
	if len(missing) > 0 {
		v.warnf("architectures", "%s is listed without %s: processes that use those entry points are killed; list them to give them the same rules", native, strings.Join(missing, " or "))
	}
}

func (v *validator) checkFlags() {
	for i, f := range v.p.Flags {
		if !filter.IsKnownFlag(f) {
			v.errorf(joinIndex("flags", i), "%q is not a flag sysgate can set; use one of %s, or remove it", clip(string(f)), listOf(filter.KnownFlags()))
		}
	}
}

func (v *validator) checkListener() {
	if v.p.ListenerMetadata != "" && v.p.ListenerPath == "" {
		v.errorf("listenerMetadata", "set without listenerPath; the metadata is sent to the listener, so set listenerPath or remove listenerMetadata")
	}
}

// verdict is a rule's action as libseccomp sees it: SCMP_ACT_KILL is
// SCMP_ACT_KILL_THREAD, and the errno is part of an ERRNO or TRACE action.
type verdict struct {
	action specs.LinuxSeccompAction
	errno  uint
}

func verdictOf(a specs.LinuxSeccompAction, errnoRet *uint) verdict {
	if a == specs.ActKill {
		a = specs.ActKillThread
	}
	v := verdict{action: a}
	if takesErrno(a) {
		v.errno = eperm
		if errnoRet != nil {
			v.errno = *errnoRet
		}
	}
	return v
}

func (v verdict) String() string {
	if takesErrno(v.action) {
		return fmt.Sprintf("%s (errno %d)", v.action, v.errno)
	}
	return string(v.action)
}

// firstUse records the first rule that gave a syscall its action.
type firstUse struct {
	conditional bool
	rule        int
	verdict     verdict
}

func (v *validator) checkRules() {
	p := v.p
	if len(p.Syscalls) > maxRules {
		v.errorf("syscalls", "%d rules, more than %d: the kernel limits a filter to %d BPF instructions; merge rules that share an action and arguments", len(p.Syscalls), maxRules, maxRules)
	}
	defaultVerdict := verdictOf(p.DefaultAction, p.DefaultErrnoRet)
	defaultKnown := filter.IsKnownAction(p.DefaultAction)
	first := make(map[string]firstUse)
	known := make(map[string]bool)
	for i, rule := range p.Syscalls {
		path := joinIndex("syscalls", i)
		actionOK := v.checkRuleAction(path, rule)
		v.checkArgs(path, rule.Args)

		if len(rule.Names) == 0 {
			v.errorf(path+".names", "no syscall names; name the syscalls this rule applies to, or remove the rule")
		}
		rv := verdictOf(rule.Action, rule.ErrnoRet)
		// libseccomp refuses a rule that repeats the default action, and
		// the runtimes skip it.
		noEffect := actionOK && defaultKnown && rv == defaultVerdict
		if noEffect {
			v.warnf(path+".action", "%s is also the default action, so the rule has no effect; remove it or change its action", rv)
		}
		inRule := make(map[string]bool)
		for j, name := range rule.Names {
			npath := joinIndex(path+".names", j)
			if name == "" {
				v.errorf(npath, "empty syscall name; remove it")
				continue
			}
			if inRule[name] {
				v.warnf(npath, "%q is listed twice in this rule; remove one", clip(name))
				continue
			}
			inRule[name] = true
			isKnown, checked := known[name]
			if !checked {
				isKnown = filter.IsKnownSyscall(name)
				known[name] = isKnown
				if isKnown {
					v.noteName(npath, name)
				}
			}
			if !isKnown {
				v.warnf(npath, "%q is not a syscall of any ABI in sysgate's table (Linux %s) nor of any architecture libseccomp %s knows, so the rule ignores it: check the spelling", clip(name), syscalls.KernelVersion, filter.LibseccompVersion())
			}
			if rule.Action == specs.ActNotify && name == "write" {
				v.errorf(npath, "SCMP_ACT_NOTIFY cannot be used for the write syscall (runc's words): the runtime needs write to send the listener fd, and would deadlock; give write another action")
			}
			if !actionOK || noEffect {
				continue
			}
			conditional := len(rule.Args) > 0
			prev, ok := first[name]
			switch {
			case !ok:
				first[name] = firstUse{rule: i, verdict: rv, conditional: conditional}
			case prev.verdict == rv:
			case prev.conditional && conditional && disjoint(p.Syscalls[prev.rule].Args, rule.Args):
				// No call matches both (podman's socket rules: ERRNO for
				// AF_NETLINK with NETLINK_AUDIT, ALLOW for any other
				// domain or protocol): each action is exactly as written.
			case !prev.conditional && !conditional:
				// Real profiles do this (podman's default lists setns as
				// allowed and again as ERRNO(1)); libseccomp, runc and
				// sysgate keep the first rule.
				v.warnf(npath, "%q already has action %s from syscalls[%d]; the first rule wins (as in runc), so this %s has no effect: remove one of them", clip(name), prev.verdict, prev.rule, rv)
			default:
				v.errorf(npath, "%q has action %s here but %s in syscalls[%d], and a call can match both rules' argument conditions; libseccomp then gives it one of the two actions whatever the order (a deny can become an allow): give every rule for it the same action, or make the conditions exclusive", clip(name), rv, prev.verdict, prev.rule)
			}
		}
	}
}

// noteName says, at a known name's first use, what becomes of it on the
// ABIs the filter covers when that is not the obvious: a syscall of other
// architectures only, one newer than the linked libseccomp (filtered by its
// number from sysgate's table), one the running kernel lacks.
func (v *validator) noteName(path, name string) {
	var present, numbered []string
	for _, arch := range v.filterArches() {
		_, inTable := filter.SyscallNumber(name, arch)
		if inTable || filter.LibseccompKnows(name, arch) {
			present = append(present, shortArch(arch))
		}
		if nr, ok := filter.FilteredByNumber(name, arch); ok {
			numbered = append(numbered, fmt.Sprintf("%s %s", shortArch(arch), formatNr(nr)))
		}
	}
	switch {
	case len(present) == 0:
		v.infof(path, "%q is a syscall of other architectures only, not of %s: the rule does nothing here", name, listOf(v.shortArches()))
	case len(numbered) > 0:
		v.infof(path, "%q is newer than libseccomp %s, which sysgate links: sysgate filters it by its number in Linux %s's syscall table (%s)", name, filter.LibseccompVersion(), syscalls.KernelVersion, listOf(numbered))
		if filter.KernelLacks(name) {
			v.infof(path, "this kernel (%s) does not have %q: sysgate's filter answers ENOSYS to it here, as the kernel would without a filter", filter.KernelRelease(), name)
		}
	}
}

// filterArches are the ABIs the compiled filter covers: the node's native
// one and the listed ones of its family.
func (v *validator) filterArches() []specs.Arch {
	out := filter.NodeArches()[:1]
	for _, a := range v.p.Architectures {
		if filter.IsNodeArch(a) && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

func (v *validator) shortArches() []string {
	var out []string
	for _, a := range v.filterArches() {
		out = append(out, shortArch(a))
	}
	return out
}

func shortArch(a specs.Arch) string {
	return strings.ToLower(strings.TrimPrefix(string(a), "SCMP_ARCH_"))
}

// formatNr writes an x32 number as the kernel's x32 table does, with the
// x32 bit spelled out.
func formatNr(nr int32) string {
	if nr&syscalls.X32SyscallBit != 0 {
		return fmt.Sprintf("%d|0x%x", nr&^syscalls.X32SyscallBit, syscalls.X32SyscallBit)
	}
	return strconv.Itoa(int(nr))
}

// checkRuleAction reports whether the rule's action is one the compiler
// knows, after checking the action and its errnoRet.
func (v *validator) checkRuleAction(path string, rule specs.LinuxSyscall) bool {
	ok := false
	switch {
	case rule.Action == "":
		v.errorf(path+".action", "missing; set the action for these syscalls, one of %s", listOf(filter.KnownActions()))
	case !filter.IsKnownAction(rule.Action):
		v.errorf(path+".action", "%q is not a seccomp action; use one of %s", clip(string(rule.Action)), listOf(filter.KnownActions()))
	default:
		ok = true
		if rule.Action == specs.ActNotify && v.p.ListenerPath == "" {
			v.errorf(path+".action", "SCMP_ACT_NOTIFY needs a listener: set listenerPath to the socket of the agent that handles the notifications")
		}
	}
	if rule.ErrnoRet != nil {
		if rule.Action != "" && !takesErrno(rule.Action) {
			v.errorf(path+".errnoRet", "set with action %s, which returns no errno; remove it or use SCMP_ACT_ERRNO or SCMP_ACT_TRACE", clip(string(rule.Action)))
		}
		if *rule.ErrnoRet > maxErrno {
			v.errorf(path+".errnoRet", "%d is larger than the largest errno (%d); use an errno such as 1 (EPERM) or 38 (ENOSYS)", *rule.ErrnoRet, maxErrno)
		}
	}
	return ok
}

func (v *validator) checkArgs(path string, args []specs.LinuxSeccompArg) {
	for k, arg := range args {
		apath := joinIndex(path+".args", k)
		if arg.Index > maxArgIndex {
			v.errorf(apath+".index", "%d is not an argument index: syscalls have arguments 0 to %d", arg.Index, maxArgIndex)
		}
		switch {
		case arg.Op == "":
			v.errorf(apath+".op", "missing; set the comparison, one of %s", listOf(filter.KnownOperators()))
		case !filter.IsKnownOperator(arg.Op):
			v.errorf(apath+".op", "%q is not a comparison operator; use one of %s", clip(string(arg.Op)), listOf(filter.KnownOperators()))
		case arg.ValueTwo != 0 && arg.Op != specs.OpMaskedEqual:
			v.warnf(apath+".valueTwo", "only SCMP_CMP_MASKED_EQ reads valueTwo, so it is ignored with %s; remove it, or use SCMP_CMP_MASKED_EQ with value as the mask", arg.Op)
		}
	}
}

// comparePaths orders JSON paths so that runs of digits compare as numbers:
// syscalls[2] sorts before syscalls[10], as in the file.
func comparePaths(a, b string) int {
	for a != "" && b != "" {
		da, db := digitPrefix(a), digitPrefix(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmp.Or(cmp.Compare(len(na), len(nb)), strings.Compare(na, nb)); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if c := cmp.Compare(a[0], b[0]); c != 0 {
			return c
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digitPrefix(s string) int {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

// bigEndian are the architectures libseccomp cannot put in one filter with
// the little-endian x86 family (seccomp_arch_add fails with EDOM): runc
// refuses such a profile, measured with runc 1.1.5 and SCMP_ARCH_S390X.
var bigEndian = map[specs.Arch]bool{
	specs.ArchS390: true, specs.ArchS390X: true, specs.ArchPPC: true, specs.ArchPPC64: true,
	specs.ArchMIPS: true, specs.ArchMIPS64: true, specs.ArchMIPS64N32: true,
	specs.ArchPARISC: true, specs.ArchPARISC64: true,
}

// nodeFamily names this node's family in messages: x86 or arm.
func nodeFamily() string {
	if filter.NodeMachine() == filter.MachineARM64 {
		return "arm64"
	}
	return "x86"
}

func archNames(arches []specs.Arch) []string {
	out := make([]string, len(arches))
	for i, a := range arches {
		out[i] = string(a)
	}
	return out
}

func shortArches(arches []specs.Arch) []string {
	out := make([]string, len(arches))
	for i, a := range arches {
		out[i] = shortArch(a)
	}
	return out
}

func orList(items []string) string  { return joinLast(items, " or ") }
func andList(items []string) string { return joinLast(items, " and ") }

func joinLast(items []string, last string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + last + items[len(items)-1]
}
