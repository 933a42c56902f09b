package bpf

import "fmt"

// Assembler builds a short forward-only program with symbolic jump targets:
// Emit appends instructions, JumpIf and JumpAlways name their targets by
// label (an empty target means the next instruction), Label marks where a
// label points, and Assemble resolves every jump. The zero value is ready to
// use.
type Assembler struct {
	insns  []Instruction
	labels map[string]int
	fixups []fixup
}

type fixup struct {
	at            int
	jt, jf        string
	unconditional bool
}

// Emit appends instructions as they are.
func (a *Assembler) Emit(insns ...Instruction) { a.insns = append(a.insns, insns...) }

// Label makes name point at the next instruction emitted.
func (a *Assembler) Label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.insns)
}

// JumpIf emits a conditional jump (op is OpJumpEqual, OpJumpGreater,
// OpJumpGreaterEqual or OpJumpSet) comparing A with k, to label jt when the
// comparison holds and to label jf when it does not.
func (a *Assembler) JumpIf(op uint16, k uint32, jt, jf string) {
	a.fixups = append(a.fixups, fixup{at: len(a.insns), jt: jt, jf: jf})
	a.Emit(Instruction{Code: op, K: k})
}

// JumpAlways emits an unconditional jump to label target.
func (a *Assembler) JumpAlways(target string) {
	a.fixups = append(a.fixups, fixup{at: len(a.insns), jt: target, unconditional: true})
	a.Emit(Instruction{Code: OpJumpAlways})
}

// Assemble resolves the jumps and returns the program. It fails on a label
// that was never placed, a jump that does not go forward, and a conditional
// jump farther than its 8-bit offsets reach (use JumpAlways for those).
func (a *Assembler) Assemble() ([]Instruction, error) {
	offset := func(from int, target string) (int, error) {
		if target == "" {
			return 0, nil
		}
		to, ok := a.labels[target]
		if !ok {
			return 0, fmt.Errorf("undefined label %q", target)
		}
		if to <= from {
			return 0, fmt.Errorf("backward jump to %q", target)
		}
		return to - from - 1, nil
	}
	for _, f := range a.fixups {
		jt, err := offset(f.at, f.jt)
		if err != nil {
			return nil, err
		}
		if f.unconditional {
			a.insns[f.at].K = uint32(jt)
			continue
		}
		jf, err := offset(f.at, f.jf)
		if err != nil {
			return nil, err
		}
		// Refuse rather than wrap: a conditional offset is 8 bits.
		if jt > 255 || jf > 255 {
			return nil, fmt.Errorf("jump too long at instruction %d", f.at)
		}
		a.insns[f.at].Jt, a.insns[f.at].Jf = uint8(jt), uint8(jf)
	}
	return a.insns, nil
}
