package filter

import (
	"errors"
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/sysgate/sysgate/filter/bpf"
)

// Optimize levels of libseccomp's SCMP_FLTATR_CTL_OPTIMIZE.
const (
	OptimizeLinear     = 1 // libseccomp's default: rules in priority order
	OptimizeBinaryTree = 2 // syscall numbers dispatched through a binary tree
)

// Options tune compilation; the zero value compiles the profile as written,
// in sysgate's default layout.
type Options struct {
	// Arches, when not empty, replaces the profile's architectures.
	Arches []specs.Arch
	// Machine is the node the filter is for; nil is the running one.
	Machine *Machine
	// Optimize selects libseccomp's layout: OptimizeBinaryTree (the
	// default) or OptimizeLinear.
	Optimize int
	// Joint has libseccomp compile all architectures in one filter instead
	// of one filter per architecture joined by sysgate's arch dispatch.
	// Both give the same verdicts; the joint export is much slower, since
	// libseccomp's export is super-linear in the size of the program.
	Joint bool
	// LibseccompOnly compiles the profile as a runtime linked with the
	// same libseccomp does when it compiles the JSON itself (runc, crun
	// without the handoff): names libseccomp cannot resolve are left out
	// instead of filtered by number. It is what such a runtime loads, for
	// `sysgate verify` to compare with; never what sysgate hands over.
	LibseccompOnly bool

	// For tests: names to filter by number even where libseccomp knows
	// them, and the kernel to compile for instead of the running one.
	forceNumbered map[string]bool
	kernel        *KernelSyscalls
}

// kernelLacks reports whether the kernel sysgate compiles for lacks name;
// it probes the running kernel only for a name the probe covers.
func (o Options) kernelLacks(name string) bool {
	if o.kernel != nil {
		return o.kernel.Lacks(name)
	}
	if o.Machine != nil && o.Machine != NodeMachine() {
		return false // another machine's kernel: nothing known of it here
	}
	return KernelLacks(name)
}

// The binary tree is the default: a syscall that runs the filter executes
// ~15 instructions instead of up to ~600, and the kernel loads it 3x faster.
func (o Options) optimize() int {
	if o.Optimize == 0 {
		return OptimizeBinaryTree
	}
	return o.Optimize
}

// defaultErrno is what SCMP_ACT_ERRNO returns when the profile names no
// errno: EPERM, shown to users as "Operation not permitted".
const defaultErrno = uint(unix.EPERM)

// Compile turns a profile into a loadable program. The profile should have
// passed spec.ValidateProfile; Compile still refuses anything it cannot
// express exactly, because a filter that silently differs from its profile
// is the failure sysgate exists to prevent.
func Compile(profile *specs.LinuxSeccomp, opts Options) (*Program, error) {
	if profile == nil {
		return nil, errors.New("no seccomp profile to compile")
	}
	defaultAction, err := scmpAction(profile.DefaultAction, profile.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("defaultAction: %w", err)
	}
	if profile.DefaultAction == specs.ActNotify {
		return nil, errors.New("defaultAction: SCMP_ACT_NOTIFY cannot be used as default action (runc's words): the runtime's own syscalls would wait for a listener that is not there yet")
	}
	machine, err := opts.machine()
	if err != nil {
		return nil, err
	}
	archList, err := effectiveArches(profile, opts, machine)
	if err != nil {
		return nil, err
	}
	flagBits, err := filterFlags(profile)
	if err != nil {
		return nil, err
	}

	plan, err := planRules(profile)
	if err != nil {
		return nil, err
	}
	names := newResolver(opts)
	numbered := map[specs.Arch][]numberedSyscall{}
	for _, arch := range archList {
		if numbered[arch], err = numberedFor(plan, arch, names); err != nil {
			return nil, err
		}
	}
	var insns []bpf.Instruction
	var unknown []string
	if opts.Joint {
		insns, unknown, err = libseccompProgram(plan, defaultAction, archList, opts)
		if err == nil {
			var prefix []bpf.Instruction
			prefix, err = numberedPrefix(machine, numbered)
			insns = append(prefix, insns...)
		}
	} else {
		insns, unknown, err = joinedProgram(plan, defaultAction, archList, opts, machine, numbered)
	}
	if err != nil {
		return nil, err
	}
	stub, err := enosysStub(profile, archList, machine, names)
	if err != nil {
		return nil, err
	}
	var byNumber []NumberedSyscall
	for _, arch := range archList {
		byNumber = append(byNumber, describeNumbered(arch, numbered[arch])...)
	}
	// A name libseccomp does not know is ignored, as runc ignores it, only
	// when sysgate's table has no number for it on any ABI of the filter
	// either.
	var ignored []string
	for _, name := range unknown {
		if !slices.ContainsFunc(byNumber, func(n NumberedSyscall) bool { return n.Name == name }) {
			ignored = append(ignored, name)
		}
	}
	prog := &Program{
		Instructions:     append(stub, insns...),
		StubLength:       len(stub),
		Flags:            flagBits,
		Arches:           archList,
		ListenerPath:     profile.ListenerPath,
		ListenerMetadata: profile.ListenerMetadata,
		Ignored:          ignored,
		ByNumber:         byNumber,
		ForeignArches:    foreignArches(profile, opts, machine),
	}
	if n := len(prog.Instructions); n > bpf.MaxInstructions {
		return nil, fmt.Errorf("the compiled filter has %d instructions, more than the kernel's limit of %d: split rules with many argument conditions or drop architectures", n, bpf.MaxInstructions)
	}
	return prog, nil
}

// libseccompProgram has libseccomp compile the planned rules for exactly
// archList and export the program; it returns the names libseccomp does not
// know.
func libseccompProgram(plan []plannedRule, defaultAction libseccomp.ScmpAction, archList []specs.Arch, opts Options) ([]bpf.Instruction, []string, error) {
	f, err := libseccomp.NewFilter(defaultAction)
	if err != nil {
		return nil, nil, fmt.Errorf("libseccomp: creating a filter: %w", err)
	}
	defer f.Release()
	// A process that enters through an ABI the profile does not list has no
	// rules to obey; kill the whole process rather than one thread, so that a
	// multi-threaded program cannot keep running half-dead.
	if err := f.SetBadArchAction(libseccomp.ActKillProcess); err != nil {
		return nil, nil, fmt.Errorf("libseccomp: setting the bad-arch action: %w", err)
	}
	if opts.optimize() == OptimizeBinaryTree {
		if err := f.SetOptimize(OptimizeBinaryTree); err != nil {
			return nil, nil, fmt.Errorf("libseccomp: binary-tree layout needs libseccomp >= 2.5: %w", err)
		}
	}
	native, err := libseccomp.GetNativeArch()
	if err != nil {
		return nil, nil, err
	}
	for _, arch := range archList {
		if err := f.AddArch(arches[arch]); err != nil {
			return nil, nil, fmt.Errorf("libseccomp: adding architecture %s: %w", arch, err)
		}
	}
	// A new filter holds the native arch; a per-arch filter for another ABI
	// must not.
	if !slices.ContainsFunc(archList, func(a specs.Arch) bool { return arches[a] == native }) {
		if err := f.RemoveArch(native); err != nil {
			return nil, nil, fmt.Errorf("libseccomp: removing the native architecture: %w", err)
		}
	}
	unknown, err := addRules(f, plan, opts)
	if err != nil {
		return nil, nil, err
	}
	insns, err := exportBPF(f)
	return insns, unknown, err
}

// effectiveArches is the machine's native arch followed by the requested
// ones of its family, each once, in a stable order.
func effectiveArches(profile *specs.LinuxSeccomp, opts Options, machine *Machine) ([]specs.Arch, error) {
	requested := profile.Architectures
	if len(opts.Arches) > 0 {
		requested = opts.Arches
	}
	list := []specs.Arch{machine.Native()}
	for i, a := range requested {
		if isForeignTo(machine, a) {
			continue // never matches there: Program.ForeignArches says so
		}
		if !IsKnownArch(a) {
			return nil, fmt.Errorf("architectures[%d]: %q is not an architecture libseccomp knows; sysgate compiles for %v and leaves other machines' architectures out", i, a, KnownArches())
		}
		if !slices.Contains(list, a) {
			list = append(list, a)
		}
	}
	return list, nil
}

// foreignArches are the requested architectures effectiveArches left out.
func foreignArches(profile *specs.LinuxSeccomp, opts Options, machine *Machine) []specs.Arch {
	requested := profile.Architectures
	if len(opts.Arches) > 0 {
		requested = opts.Arches
	}
	var out []specs.Arch
	for _, a := range requested {
		if isForeignTo(machine, a) && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// filterFlags maps the profile's flags to seccomp(2) bits. An absent flags
// field means what runc (>= 1.2) and crun do: SPEC_ALLOW, so that loading a
// filter does not force speculative-store-bypass mitigation on the process.
func filterFlags(profile *specs.LinuxSeccomp) (uint, error) {
	var bits uint
	if profile.Flags == nil {
		bits = flagSpecAllow
	}
	for i, name := range profile.Flags {
		bit, ok := flags[name]
		if !ok {
			return 0, fmt.Errorf("flags[%d]: unknown flag %q; known flags are %v", i, name, KnownFlags())
		}
		bits |= bit
	}
	if bits&flagWaitKillableRecv != 0 && !usesNotify(profile) {
		return 0, fmt.Errorf("flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV applies to user notification, but no rule uses SCMP_ACT_NOTIFY; remove the flag or add the NOTIFY rule")
	}
	if usesNotify(profile) {
		bits |= flagNewListener
		// With TSYNC the kernel returns either a listener fd or a thread id;
		// TSYNC_ESRCH makes it report a sync failure as ESRCH instead.
		if bits&flagTSync != 0 {
			bits |= flagTSyncESRCH
		}
	}
	return bits, nil
}

func usesNotify(profile *specs.LinuxSeccomp) bool {
	for _, rule := range profile.Syscalls {
		if rule.Action == specs.ActNotify {
			return true
		}
	}
	return false
}

// scmpAction maps a profile action and its errno to libseccomp. errnoRet is
// meaningful only for ERRNO and TRACE: the runtime spec says a runtime MUST
// refuse it elsewhere, and so do we.
func scmpAction(action specs.LinuxSeccompAction, errnoRet *uint) (libseccomp.ScmpAction, error) {
	a, ok := actions[action]
	if !ok {
		return 0, fmt.Errorf("unknown action %q; known actions are %v", action, KnownActions())
	}
	switch a {
	case libseccomp.ActErrno, libseccomp.ActTrace:
		code := defaultErrno
		if errnoRet != nil {
			code = *errnoRet
		}
		if code > 4095 {
			return 0, fmt.Errorf("errno %d of %s is above the kernel's MAX_ERRNO (4095)", code, action)
		}
		return a.SetReturnCode(int16(code)), nil
	default:
		if errnoRet != nil {
			return 0, fmt.Errorf("errnoRet is set on %s, but only SCMP_ACT_ERRNO and SCMP_ACT_TRACE return an errno", action)
		}
		return a, nil
	}
}

// retValue is a rule's action as the SECCOMP_RET_* value the filter
// returns; the action and errno were checked by scmpAction.
func retValue(action specs.LinuxSeccompAction, errnoRet *uint) uint32 {
	code := uint32(defaultErrno)
	if errnoRet != nil {
		code = uint32(*errnoRet)
	}
	switch action {
	case specs.ActKillProcess:
		return bpf.RetKillProcess
	case specs.ActTrap:
		return bpf.RetTrap
	case specs.ActErrno:
		return bpf.RetErrno | code
	case specs.ActTrace:
		return bpf.RetTrace | code
	case specs.ActLog:
		return bpf.RetLog
	case specs.ActNotify:
		return bpf.RetUserNotif
	case specs.ActAllow:
		return bpf.RetAllow
	}
	return bpf.RetKillThread // SCMP_ACT_KILL and SCMP_ACT_KILL_THREAD
}

// plannedRule is one name of one rule, as the filter gets it.
type plannedRule struct {
	where   string // "syscalls[i].names[j]"
	syscall string
	action  specs.LinuxSeccompAction
	scmp    libseccomp.ScmpAction
	ret     uint32 // scmp as a SECCOMP_RET_* value
	args    []specs.LinuxSeccompArg
	conds   []libseccomp.ScmpCondition
	or      bool // an argument index repeats: each condition is a rule
}

// planRules reads the profile's rules the way runc does, so that a profile
// means the same under sysgate as under runc: one rule per name; rules equal
// to the default action are left out (libseccomp refuses them); conditions
// on distinct argument indexes are ANDed in one rule, but when an index
// repeats every condition becomes a rule of its own, i.e. they are ORed
// (containerd's default profile relies on this for clone and personality).
func planRules(profile *specs.LinuxSeccomp) ([]plannedRule, error) {
	defaultAction, _ := scmpAction(profile.DefaultAction, profile.DefaultErrnoRet)
	// Two unconditional rules with different actions for one syscall: the
	// first wins, as libseccomp (and so runc) decides. Real profiles rely on
	// it (podman's default allows setns and lists it again under ERRNO(1)).
	// sysgate does not hand the later rule to libseccomp at all, so the
	// outcome does not depend on libseccomp's internals.
	unconditional := map[string]bool{}
	var plan []plannedRule
	for i, rule := range profile.Syscalls {
		where := fmt.Sprintf("syscalls[%d]", i)
		action, err := scmpAction(rule.Action, rule.ErrnoRet)
		if err != nil {
			return nil, fmt.Errorf("%s.action: %w", where, err)
		}
		if action == defaultAction {
			continue
		}
		conds, orConds, err := conditions(rule.Args)
		if err != nil {
			return nil, fmt.Errorf("%s.args: %w", where, err)
		}
		for j, name := range rule.Names {
			if len(conds) == 0 {
				if unconditional[name] {
					continue
				}
				unconditional[name] = true
			}
			plan = append(plan, plannedRule{where: fmt.Sprintf("%s.names[%d]", where, j), syscall: name,
				action: rule.Action, scmp: action, ret: retValue(rule.Action, rule.ErrnoRet),
				args: rule.Args, conds: conds, or: orConds})
		}
	}
	return plan, nil
}

// addRules hands libseccomp every planned rule whose name it knows, on any
// of its architectures, and returns the names it does not know. Names
// sysgate filters by number are added as well where libseccomp knows them
// on some other ABI: on the ABI where it cannot name them, libseccomp
// resolves them to a pseudo-syscall that matches nothing.
func addRules(f *libseccomp.ScmpFilter, plan []plannedRule, opts Options) (unknown []string, err error) {
	for _, r := range plan {
		call, err := libseccomp.GetSyscallFromName(r.syscall)
		if err != nil || opts.forceNumbered[r.syscall] {
			if !slices.Contains(unknown, r.syscall) {
				unknown = append(unknown, r.syscall)
			}
			continue
		}
		if err := addRule(f, call, r.scmp, r.conds, r.or); err != nil {
			return nil, fmt.Errorf("%s %q with %s: libseccomp refused the rule: %w (is the same syscall given conflicting rules elsewhere in the profile?)", r.where, r.syscall, r.action, err)
		}
	}
	return unknown, nil
}

func addRule(f *libseccomp.ScmpFilter, call libseccomp.ScmpSyscall, action libseccomp.ScmpAction, conds []libseccomp.ScmpCondition, orConds bool) error {
	switch {
	case len(conds) == 0:
		return f.AddRule(call, action)
	case orConds:
		for _, c := range conds {
			if err := f.AddRuleConditional(call, action, []libseccomp.ScmpCondition{c}); err != nil {
				return err
			}
		}
		return nil
	default:
		return f.AddRuleConditional(call, action, conds)
	}
}

// conditions converts argument conditions; or reports that an argument index
// repeats, which makes the conditions alternatives rather than a conjunction.
func conditions(args []specs.LinuxSeccompArg) (conds []libseccomp.ScmpCondition, or bool, err error) {
	seen := map[uint]bool{}
	for k, arg := range args {
		op, ok := operators[arg.Op]
		if !ok {
			return nil, false, fmt.Errorf("[%d].op: unknown operator %q; known operators are %v", k, arg.Op, KnownOperators())
		}
		if arg.Index > 5 {
			return nil, false, fmt.Errorf("[%d].index: %d is out of range: syscalls have arguments 0 to 5", k, arg.Index)
		}
		var c libseccomp.ScmpCondition
		if op == libseccomp.CompareMaskedEqual {
			c, err = libseccomp.MakeCondition(arg.Index, op, arg.Value, arg.ValueTwo)
		} else {
			c, err = libseccomp.MakeCondition(arg.Index, op, arg.Value)
		}
		if err != nil {
			return nil, false, fmt.Errorf("[%d]: libseccomp: %w", k, err)
		}
		if seen[arg.Index] {
			or = true
		}
		seen[arg.Index] = true
		conds = append(conds, c)
	}
	return conds, or, nil
}

// NativeArch is the architecture of this machine as a profile names it.
func NativeArch() (specs.Arch, error) {
	m, err := Options{}.machine()
	if err != nil {
		return "", err
	}
	return m.Native(), nil
}
