package filter

import (
	"fmt"
	"slices"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"

	"github.com/sysgate/sysgate/filter/bpf"
)

// joinedProgram compiles one libseccomp filter per architecture, in
// parallel, and joins them behind an arch dispatch; on x86:
//
//	    ld  arch
//	    jeq AUDIT_ARCH_X86_64 -> amd64
//	    jeq AUDIT_ARCH_I386   -> i386
//	    ret KILL_PROCESS                 (an ABI the profile does not list)
//	amd64: ld nr; jset X32_BIT -> x32 part, else x86_64 part
//	part:  the ABI's rules by number (numbered.go), then libseccomp's
//	       program for that ABI
//
// and on arm64 the same with AUDIT_ARCH_AARCH64 and AUDIT_ARCH_ARM, which no
// bit of the number has to tell apart (Machine.auditGroups).
//
// libseccomp's export is super-linear in the size of the program: three
// arches exported together cost about three times their separate exports.
// Each per-arch program still checks its own arch first, so the dispatch
// only has to choose; TestJoinedMatchesJoint proves the verdicts equal.
func joinedProgram(plan []plannedRule, defaultAction libseccomp.ScmpAction, archList []specs.Arch, opts Options, machine *Machine, numbered map[specs.Arch][]numberedSyscall) ([]bpf.Instruction, []string, error) {
	programs := make([][]bpf.Instruction, len(archList))
	unknownPerArch := make([][]string, len(archList))
	errs := make([]error, len(archList))
	var wg sync.WaitGroup
	for i, arch := range archList {
		wg.Add(1)
		go func() {
			defer wg.Done()
			programs[i], unknownPerArch[i], errs[i] = libseccompProgram(plan, defaultAction, []specs.Arch{arch}, opts)
		}()
	}
	wg.Wait()
	var unknown []string
	for i := range archList {
		if errs[i] != nil {
			return nil, nil, errs[i]
		}
		for _, name := range unknownPerArch[i] {
			if !slices.Contains(unknown, name) {
				unknown = append(unknown, name)
			}
		}
	}
	program := func(arch specs.Arch) []bpf.Instruction {
		if i := slices.Index(archList, arch); i >= 0 {
			return programs[i]
		}
		return nil
	}

	var a bpf.Assembler
	a.Emit(bpf.LoadAbsolute(bpf.OffsetArch))
	groups := listedGroups(machine, archList)
	for _, g := range groups {
		not := "not-" + groupLabel(g)
		a.JumpIf(bpf.OpJumpEqual, g[0].audit, "", not)
		if len(g) == 1 {
			a.JumpAlways(partLabel(g[0].arch))
		} else {
			a.JumpAlways(groupLabel(g))
		}
		a.Label(not)
	}
	a.Emit(bpf.Return(bpf.RetKillProcess))
	for _, g := range groups {
		if len(g) == 1 {
			continue
		}
		// Two ABIs behind one audit value (x86_64, x32): the one whose
		// numbers carry a bit, then the other.
		low, high := g[0], g[1]
		if low.nrBit != 0 {
			low, high = high, low
		}
		a.Label(groupLabel(g))
		a.Emit(bpf.LoadAbsolute(bpf.OffsetNr))
		a.JumpIf(bpf.OpJumpSet, uint32(high.nrBit), "", "low-"+groupLabel(g))
		jumpOrKill(&a, program(high.arch) != nil, partLabel(high.arch))
		a.Label("low-" + groupLabel(g))
		jumpOrKill(&a, program(low.arch) != nil, partLabel(low.arch))
	}
	// Each ABI's rules by number go right before its program, which then
	// needs no dispatch of its own.
	l := &labels{prefix: "numbered-"}
	for _, g := range machine.auditGroups() {
		for _, abi := range g {
			if insns := program(abi.arch); insns != nil {
				a.Label(partLabel(abi.arch))
				emitNumbered(&a, l, numbered[abi.arch], abi.width, partLabel(abi.arch)+"-libseccomp")
				a.Label(partLabel(abi.arch) + "-libseccomp")
				a.Emit(insns...)
			}
		}
	}
	insns, err := a.Assemble()
	if err != nil {
		return nil, nil, fmt.Errorf("arch dispatch: %w", err)
	}
	return insns, unknown, nil
}

// listedGroups are the machine's audit groups with at least one ABI in
// archList; a group keeps all its ABIs, listed or not (the dispatch kills
// the unlisted one).
func listedGroups(machine *Machine, archList []specs.Arch) [][]machineABI {
	var out [][]machineABI
	for _, g := range machine.auditGroups() {
		if slices.ContainsFunc(g, func(a machineABI) bool { return slices.Contains(archList, a.arch) }) {
			out = append(out, g)
		}
	}
	return out
}

func groupLabel(g []machineABI) string { return fmt.Sprintf("audit-%#x", g[0].audit) }

func partLabel(arch specs.Arch) string { return "part-" + string(arch) }

// jumpOrKill jumps to the ABI's program, or kills when the profile does not
// list that ABI (libseccomp's bad-arch action, as set in libseccompProgram).
func jumpOrKill(a *bpf.Assembler, present bool, label string) {
	if present {
		a.JumpAlways(label)
	} else {
		a.Emit(bpf.Return(bpf.RetKillProcess))
	}
}
