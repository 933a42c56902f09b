package filter

import (
	"slices"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
)

// joinedProgram compiles one libseccomp filter per architecture, in
// parallel, and joins them behind an arch dispatch:
//
//	    ld  arch
//	    jeq AUDIT_ARCH_X86_64 -> amd64
//	    jeq AUDIT_ARCH_I386   -> i386
//	    ret KILL_PROCESS                 (an ABI the profile does not list)
//	amd64: ld nr; jset X32_BIT -> x32 program, else x86_64 program
//
// libseccomp's export is super-linear in the size of the program: three
// arches exported together cost about three times their separate exports.
// Each per-arch program still checks its own arch first, so the dispatch
// only has to choose; TestJoinedMatchesJoint proves the verdicts equal.
func joinedProgram(profile *specs.LinuxSeccomp, defaultAction libseccomp.ScmpAction, archList []specs.Arch, optimize int) ([]Instruction, []string, error) {
	programs := make([][]Instruction, len(archList))
	ignoredPerArch := make([][]string, len(archList))
	errs := make([]error, len(archList))
	var wg sync.WaitGroup
	for i, arch := range archList {
		wg.Add(1)
		go func() {
			defer wg.Done()
			programs[i], ignoredPerArch[i], errs[i] = libseccompProgram(profile, defaultAction, []specs.Arch{arch}, optimize)
		}()
	}
	wg.Wait()
	var ignored []string
	for i := range archList {
		if errs[i] != nil {
			return nil, nil, errs[i]
		}
		for _, name := range ignoredPerArch[i] {
			if !slices.Contains(ignored, name) {
				ignored = append(ignored, name)
			}
		}
	}
	program := func(arch specs.Arch) []Instruction {
		if i := slices.Index(archList, arch); i >= 0 {
			return programs[i]
		}
		return nil
	}
	x86_64, x32, i386 := program(specs.ArchX86_64), program(specs.ArchX32), program(specs.ArchX86)

	var a assembler
	a.emit(stmt(bpfLD|bpfW|bpfABS, offsetArch))
	if x86_64 != nil || x32 != nil {
		a.jumpIf(bpfJEQ, AuditArchX86_64, "", "not-amd64")
		a.jumpAlways("amd64")
		a.label("not-amd64")
	}
	if i386 != nil {
		a.jumpIf(bpfJEQ, AuditArchI386, "", "bad-arch")
		a.jumpAlways("i386")
	}
	a.label("bad-arch")
	a.emit(stmt(bpfRET|bpfK, RetKillProcess))
	if x86_64 != nil || x32 != nil {
		a.label("amd64")
		a.emit(stmt(bpfLD|bpfW|bpfABS, offsetNr))
		a.jumpIf(bpfJSET, uint32(X32SyscallBit), "", "x86_64")
		a.jumpOrKill(x32 != nil, "x32")
		a.label("x86_64")
		a.jumpOrKill(x86_64 != nil, "x86_64-program")
	}
	for _, part := range []struct {
		label string
		insns []Instruction
	}{{"x86_64-program", x86_64}, {"x32", x32}, {"i386", i386}} {
		if part.insns != nil {
			a.label(part.label)
			a.insns = append(a.insns, part.insns...)
		}
	}
	insns, err := a.assemble()
	return insns, ignored, err
}

// jumpOrKill jumps to the ABI's program, or kills when the profile does not
// list that ABI (libseccomp's bad-arch action, as set in libseccompProgram).
func (a *assembler) jumpOrKill(present bool, label string) {
	if present {
		a.jumpAlways(label)
	} else {
		a.emit(stmt(bpfRET|bpfK, RetKillProcess))
	}
}
