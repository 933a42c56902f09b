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
// parallel, and joins them behind an arch dispatch:
//
//	    ld  arch
//	    jeq AUDIT_ARCH_X86_64 -> amd64
//	    jeq AUDIT_ARCH_I386   -> i386
//	    ret KILL_PROCESS                 (an ABI the profile does not list)
//	amd64: ld nr; jset X32_BIT -> x32 part, else x86_64 part
//	part:  the ABI's rules by number (numbered.go), then libseccomp's
//	       program for that ABI
//
// libseccomp's export is super-linear in the size of the program: three
// arches exported together cost about three times their separate exports.
// Each per-arch program still checks its own arch first, so the dispatch
// only has to choose; TestJoinedMatchesJoint proves the verdicts equal.
func joinedProgram(plan []plannedRule, defaultAction libseccomp.ScmpAction, archList []specs.Arch, opts Options, numbered map[specs.Arch][]numberedSyscall) ([]bpf.Instruction, []string, error) {
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
	x86_64, x32, i386 := program(specs.ArchX86_64), program(specs.ArchX32), program(specs.ArchX86)

	var a bpf.Assembler
	a.Emit(bpf.LoadAbsolute(bpf.OffsetArch))
	if x86_64 != nil || x32 != nil {
		a.JumpIf(bpf.OpJumpEqual, bpf.AuditArchX86_64, "", "not-amd64")
		a.JumpAlways("amd64")
		a.Label("not-amd64")
	}
	if i386 != nil {
		a.JumpIf(bpf.OpJumpEqual, bpf.AuditArchI386, "", "bad-arch")
		a.JumpAlways("i386")
	}
	a.Label("bad-arch")
	a.Emit(bpf.Return(bpf.RetKillProcess))
	if x86_64 != nil || x32 != nil {
		a.Label("amd64")
		a.Emit(bpf.LoadAbsolute(bpf.OffsetNr))
		a.JumpIf(bpf.OpJumpSet, uint32(bpf.X32SyscallBit), "", "x86_64")
		jumpOrKill(&a, x32 != nil, "x32")
		a.Label("x86_64")
		jumpOrKill(&a, x86_64 != nil, "x86_64-program")
	}
	// Each ABI's rules by number go right before its program, which then
	// needs no dispatch of its own.
	l := &labels{prefix: "numbered-"}
	for _, part := range []struct {
		label string
		arch  specs.Arch
		insns []bpf.Instruction
	}{{"x86_64-program", specs.ArchX86_64, x86_64}, {"x32", specs.ArchX32, x32}, {"i386", specs.ArchX86, i386}} {
		if part.insns != nil {
			a.Label(part.label)
			emitNumbered(&a, l, numbered[part.arch], argWidth(part.arch), part.label+"-libseccomp")
			a.Label(part.label + "-libseccomp")
			a.Emit(part.insns...)
		}
	}
	insns, err := a.Assemble()
	if err != nil {
		return nil, nil, fmt.Errorf("arch dispatch: %w", err)
	}
	return insns, unknown, nil
}

// jumpOrKill jumps to the ABI's program, or kills when the profile does not
// list that ABI (libseccomp's bad-arch action, as set in libseccompProgram).
func jumpOrKill(a *bpf.Assembler, present bool, label string) {
	if present {
		a.JumpAlways(label)
	} else {
		a.Emit(bpf.Return(bpf.RetKillProcess))
	}
}
