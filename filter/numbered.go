package filter

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/sysgate/sysgate/filter/bpf"
)

// Rules by number. The linked libseccomp cannot name syscalls newer than
// itself (Debian 12's 2.5.4: mseal, listmount, statmount, the *xattrat
// family, ...), and a rule naming one would be dropped. sysgate takes their
// numbers from its own table (SyscallNumber) and emits those rules itself,
// per ABI, in front of libseccomp's program for that ABI.
//
// Why not hand libseccomp the raw number: seccomp_rule_add takes a number
// only for the library's native ABI. For any other ABI of the filter it
// translates the number through the native ABI's name for it
// (arch_syscall_translate), and fails ("unrecognized syscall") for a number
// it cannot name: x86 and x32 would get no rule. One path for every ABI,
// written with the assembler and proven equal to libseccomp's own
// translation for names it does know (TestNumberedMatchesLibseccomp), keeps
// the ABIs alike.
//
// The rules mean what libseccomp would make of them if it knew the name: an
// unconditional rule decides the syscall whatever the arguments (the first
// one wins, as in addRules); otherwise the syscall gets the rules' action
// when every condition of any one rule holds, and falls through to
// libseccomp's program, which has no rule for it, so to the default action.
// Conditions compare 64-bit arguments on x86_64, and, as libseccomp does for
// its 32-bit ABIs (x86 and x32), only the low 32 bits elsewhere; a masked
// comparison's value is masked first. Rules for one syscall with different
// actions under conditions are refused: libseccomp's choice between them
// depends on its decision tree's layout, which sysgate does not reproduce
// (the validator refuses such profiles anyway).
//
// A syscall the running kernel lacks (KernelSyscalls) returns ENOSYS
// whatever its rules say, as the kernel itself would answer: a program
// probing for it falls back, as with the ENOSYS stub.

// numberedSyscall is one syscall filtered by number on one ABI.
type numberedSyscall struct {
	name string
	nr   uint32 // as seccomp_data.nr has it: with X32SyscallBit on x32
	ret  uint32 // the SECCOMP_RET_* value its rules give
	// unconditional: ret whatever the arguments. Otherwise groups lists the
	// rules' conditions: ret when every condition of one group holds.
	unconditional bool
	groups        [][]specs.LinuxSeccompArg
	// lacking: the running kernel does not have it; ret is ERRNO(ENOSYS).
	lacking bool
	// where names the first rule that named it, for messages.
	where string
}

// NumberedSyscall tells callers (explain, the validator, the decision for
// runc) about one syscall a Program filters by number.
type NumberedSyscall struct {
	Arch specs.Arch `json:"arch"`
	Name string     `json:"name"`
	Nr   int32      `json:"nr"` // with X32SyscallBit on x32
	// Action is the most restrictive verdict its rules can give, as a
	// SECCOMP_RET_* value (ERRNO(ENOSYS) when KernelLacks).
	Action uint32 `json:"action"`
	// Conditional: the rules depend on arguments; calls that match none get
	// the default action.
	Conditional bool `json:"conditional,omitempty"`
	// KernelLacks: the kernel sysgate compiled on does not have it.
	KernelLacks bool `json:"kernelLacks,omitempty"`
	// Rule is the first rule naming it, "syscalls[i].names[j]".
	Rule string `json:"rule"`
}

// numberedFor collects the syscalls that the planned rules name and that
// sysgate filters by number on arch, in ascending order of number.
func numberedFor(plan []plannedRule, arch specs.Arch, names *resolver) ([]numberedSyscall, error) {
	byNr := map[uint32]*numberedSyscall{}
	for _, r := range plan {
		v := names.resolve(r.syscall, arch)
		if !v.byNumber {
			continue
		}
		n := byNr[uint32(v.nr)]
		if n == nil {
			n = &numberedSyscall{name: r.syscall, nr: uint32(v.nr), ret: r.ret, where: r.where}
			byNr[uint32(v.nr)] = n
		}
		switch {
		case n.unconditional:
			// The first unconditional rule decided it.
		case len(r.args) == 0:
			n.unconditional, n.ret, n.groups = true, r.ret, nil
		case n.ret != r.ret:
			return nil, fmt.Errorf("%s %q with %s: sysgate filters %s by number (libseccomp %s does not know it) and cannot give it two actions that depend on arguments (%s here, %s before); give every rule for it the same action",
				r.where, r.syscall, r.action, r.syscall, LibseccompVersion(), bpf.RetName(r.ret), bpf.RetName(n.ret))
		case r.or:
			for _, arg := range r.args {
				n.groups = append(n.groups, []specs.LinuxSeccompArg{arg})
			}
		default:
			n.groups = append(n.groups, r.args)
		}
	}
	out := make([]numberedSyscall, 0, len(byNr))
	for _, n := range byNr {
		if names.opts.kernelLacks(n.name) {
			n.lacking, n.unconditional, n.groups = true, true, nil
			n.ret = bpf.RetErrno | uint32(unix.ENOSYS)
		}
		out = append(out, *n)
	}
	slices.SortFunc(out, func(a, b numberedSyscall) int { return cmp.Compare(a.nr, b.nr) })
	return out, nil
}

// describe is the exported view of the syscalls filtered by number on arch.
func describeNumbered(arch specs.Arch, list []numberedSyscall) []NumberedSyscall {
	out := make([]NumberedSyscall, len(list))
	for i, n := range list {
		out[i] = NumberedSyscall{Arch: arch, Name: n.name, Nr: int32(n.nr), Action: n.ret,
			Conditional: !n.unconditional, KernelLacks: n.lacking, Rule: n.where}
	}
	return out
}

// labels hands out assembler labels that no other part of a program uses.
type labels struct {
	prefix string
	n      int
}

func (l *labels) next() string {
	l.n++
	return l.prefix + strconv.Itoa(l.n)
}

// argWidth is how many bits of an argument libseccomp compares on arch:
// 64 on x86_64 and aarch64; x86, x32 and arm are 32-bit ABIs to libseccomp.
func argWidth(arch specs.Arch) int {
	if m := MachineOf(arch); m != nil {
		return m.abi(arch).width
	}
	return 32
}

// emitNumbered appends the rules of one ABI: with the syscall number
// loaded, each syscall in list gets its verdict, and every other number (or
// a call whose arguments match no rule) goes on to label done. A syscall
// below the lowest number in list costs three instructions (load, compare,
// jump), and the arch and nr are all the kernel's action cache needs to
// read: an unconditional ALLOW here stays cacheable.
func emitNumbered(a *bpf.Assembler, l *labels, list []numberedSyscall, width int, done string) {
	if len(list) == 0 {
		return
	}
	checks := l.next()
	a.Emit(bpf.LoadAbsolute(bpf.OffsetNr))
	a.JumpIf(bpf.OpJumpGreaterEqual, list[0].nr, checks, "")
	a.JumpAlways(done)
	a.Label(checks)
	bodies := make([]string, len(list))
	for i, n := range list {
		next := l.next()
		a.JumpIf(bpf.OpJumpEqual, n.nr, "", next)
		if n.unconditional {
			a.Emit(bpf.Return(n.ret))
		} else {
			bodies[i] = l.next()
			a.JumpAlways(bodies[i])
		}
		a.Label(next)
	}
	a.JumpAlways(done)
	for i, n := range list {
		if n.unconditional {
			continue
		}
		a.Label(bodies[i])
		for _, group := range n.groups {
			fail := l.next()
			for _, arg := range group {
				emitCondition(a, l, arg, width, fail)
			}
			a.Emit(bpf.Return(n.ret))
			a.Label(fail)
		}
		a.JumpAlways(done)
	}
}

// emitCondition falls through when the condition holds and jumps to fail
// when it does not. On 64 bits the high words decide unless they are
// equal; on 32 bits only the low words are compared, with the values cut to
// 32 bits, as libseccomp does.
func emitCondition(a *bpf.Assembler, l *labels, arg specs.LinuxSeccompArg, width int, fail string) {
	lo := uint32(bpf.OffsetArgs + 8*arg.Index)
	hi := lo + 4
	value, mask := arg.Value, ^uint64(0)
	if arg.Op == specs.OpMaskedEqual {
		// value is the mask, valueTwo the value; libseccomp masks the value
		// too, so bits outside the mask never make the comparison fail.
		mask, value = arg.Value, arg.ValueTwo&arg.Value
	}
	vHi, vLo := uint32(value>>32), uint32(value)
	load := func(off uint32, m uint32) {
		a.Emit(bpf.LoadAbsolute(off))
		if arg.Op == specs.OpMaskedEqual {
			a.Emit(bpf.Instruction{Code: bpf.OpAnd, K: m})
		}
	}
	if width == 32 {
		load(lo, uint32(mask))
		switch arg.Op {
		case specs.OpEqualTo, specs.OpMaskedEqual:
			a.JumpIf(bpf.OpJumpEqual, vLo, "", fail)
		case specs.OpNotEqual:
			a.JumpIf(bpf.OpJumpEqual, vLo, fail, "")
		case specs.OpGreaterThan:
			a.JumpIf(bpf.OpJumpGreater, vLo, "", fail)
		case specs.OpGreaterEqual:
			a.JumpIf(bpf.OpJumpGreaterEqual, vLo, "", fail)
		case specs.OpLessThan:
			a.JumpIf(bpf.OpJumpGreaterEqual, vLo, fail, "")
		case specs.OpLessEqual:
			a.JumpIf(bpf.OpJumpGreater, vLo, fail, "")
		}
		return
	}
	pass := l.next()
	load(hi, uint32(mask>>32))
	switch arg.Op {
	case specs.OpEqualTo, specs.OpMaskedEqual:
		a.JumpIf(bpf.OpJumpEqual, vHi, "", fail)
		load(lo, uint32(mask))
		a.JumpIf(bpf.OpJumpEqual, vLo, "", fail)
	case specs.OpNotEqual:
		a.JumpIf(bpf.OpJumpEqual, vHi, "", pass)
		load(lo, uint32(mask))
		a.JumpIf(bpf.OpJumpEqual, vLo, fail, "")
	case specs.OpGreaterThan, specs.OpGreaterEqual:
		a.JumpIf(bpf.OpJumpGreater, vHi, pass, "")
		a.JumpIf(bpf.OpJumpEqual, vHi, "", fail)
		load(lo, uint32(mask))
		if arg.Op == specs.OpGreaterThan {
			a.JumpIf(bpf.OpJumpGreater, vLo, "", fail)
		} else {
			a.JumpIf(bpf.OpJumpGreaterEqual, vLo, "", fail)
		}
	case specs.OpLessThan, specs.OpLessEqual:
		a.JumpIf(bpf.OpJumpGreater, vHi, fail, "")
		a.JumpIf(bpf.OpJumpEqual, vHi, "", pass)
		load(lo, uint32(mask))
		if arg.Op == specs.OpLessThan {
			a.JumpIf(bpf.OpJumpGreaterEqual, vLo, fail, "")
		} else {
			a.JumpIf(bpf.OpJumpGreater, vLo, fail, "")
		}
	}
	a.Label(pass)
}

// numberedPrefix is the rules by number for libseccomp's joint program
// (Options.Joint), behind their own arch dispatch; x86_64 and x32 share
// AUDIT_ARCH_X86_64, and since every x32 number carries X32SyscallBit and no
// x86_64 number does, their lists can simply run one after the other. The
// per-arch compile puts each list in front of its ABI's program instead
// (joinedProgram). Nil when no ABI has one.
func numberedPrefix(machine *Machine, perArch map[specs.Arch][]numberedSyscall) ([]bpf.Instruction, error) {
	var groups [][]machineABI
	for _, g := range machine.auditGroups() {
		if slices.ContainsFunc(g, func(a machineABI) bool { return len(perArch[a.arch]) > 0 }) {
			groups = append(groups, g)
		}
	}
	if len(groups) == 0 {
		return nil, nil
	}
	var a bpf.Assembler
	l := &labels{prefix: "numbered-"}
	a.Emit(bpf.LoadAbsolute(bpf.OffsetArch))
	// Conditional jumps reach 255 instructions; each goes one step, and an
	// unconditional jump the rest of the way.
	for _, g := range groups {
		a.JumpIf(bpf.OpJumpEqual, g[0].audit, "", "not-"+groupLabel(g))
		a.JumpAlways(groupLabel(g))
		a.Label("not-" + groupLabel(g))
	}
	a.JumpAlways("program")
	for _, g := range groups {
		a.Label(groupLabel(g))
		for i, abi := range g {
			next := "program"
			if i+1 < len(g) {
				next = fmt.Sprintf("%s-%d", groupLabel(g), i+1)
			}
			emitNumbered(&a, l, perArch[abi.arch], abi.width, next)
			if i+1 < len(g) {
				a.Label(next)
			}
		}
		// A group's last list may be empty (falls through); a single
		// list always ends in a jump.
		if len(g) > 1 {
			a.JumpAlways("program")
		}
	}
	a.Label("program")
	insns, err := a.Assemble()
	if err != nil {
		return nil, fmt.Errorf("rules by number: %w", err)
	}
	return insns, nil
}
