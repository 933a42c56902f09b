package bpf

import (
	"encoding/binary"
	"fmt"
)

// Instruction is one classic BPF instruction, laid out like the kernel's
// struct sock_filter.
type Instruction struct {
	Code uint16
	Jt   uint8
	Jf   uint8
	K    uint32
}

// InstructionSize is sizeof(struct sock_filter).
const InstructionSize = 8

// MaxInstructions is BPF_MAXINSNS: the kernel refuses longer seccomp programs.
const MaxInstructions = 4096

// Decode reads raw host-endian (little-endian on x86) sock_filter bytes, as
// libseccomp exports them and as seccomp(2) takes them.
func Decode(raw []byte) ([]Instruction, error) {
	if len(raw)%InstructionSize != 0 {
		return nil, fmt.Errorf("BPF program is %d bytes, not a multiple of %d: the file is truncated or not a raw sock_filter array", len(raw), InstructionSize)
	}
	insns := make([]Instruction, len(raw)/InstructionSize)
	for i := range insns {
		b := raw[i*InstructionSize:]
		insns[i] = Instruction{
			Code: binary.LittleEndian.Uint16(b[0:2]),
			Jt:   b[2],
			Jf:   b[3],
			K:    binary.LittleEndian.Uint32(b[4:8]),
		}
	}
	return insns, nil
}

// Encode is the inverse of Decode.
func Encode(insns []Instruction) []byte {
	raw := make([]byte, len(insns)*InstructionSize)
	for i, in := range insns {
		b := raw[i*InstructionSize:]
		binary.LittleEndian.PutUint16(b[0:2], in.Code)
		b[2] = in.Jt
		b[3] = in.Jf
		binary.LittleEndian.PutUint32(b[4:8], in.K)
	}
	return raw
}

// Classic BPF opcode fields (linux/filter.h, linux/bpf_common.h).
const (
	bpfLD   = 0x00
	bpfLDX  = 0x01
	bpfST   = 0x02
	bpfSTX  = 0x03
	bpfALU  = 0x04
	bpfJMP  = 0x05
	bpfRET  = 0x06
	bpfMISC = 0x07

	bpfW   = 0x00
	bpfH   = 0x08
	bpfB   = 0x10
	bpfIMM = 0x00
	bpfABS = 0x20
	bpfIND = 0x40
	bpfMEM = 0x60
	bpfLEN = 0x80
	bpfMSH = 0xa0

	bpfADD = 0x00
	bpfSUB = 0x10
	bpfMUL = 0x20
	bpfDIV = 0x30
	bpfOR  = 0x40
	bpfAND = 0x50
	bpfLSH = 0x60
	bpfRSH = 0x70
	bpfNEG = 0x80
	bpfMOD = 0x90
	bpfXOR = 0xa0

	bpfJA   = 0x00
	bpfJEQ  = 0x10
	bpfJGT  = 0x20
	bpfJGE  = 0x30
	bpfJSET = 0x40

	bpfK = 0x00
	bpfX = 0x08
	bpfA = 0x10

	bpfTAX = 0x00
	bpfTXA = 0x80

	bpfMemWords = 16 // BPF_MEMWORDS: scratch memory slots
)

// Opcodes of the instructions a seccomp program is built from, for code that
// emits programs (with Assembler) or looks for one kind of instruction.
const (
	// OpLoadAbsolute loads the 32-bit word of seccomp_data at offset K
	// into A (BPF_LD|BPF_W|BPF_ABS).
	OpLoadAbsolute uint16 = bpfLD | bpfW | bpfABS
	// OpReturnConstant ends the program with K as its return value
	// (BPF_RET|BPF_K).
	OpReturnConstant uint16 = bpfRET | bpfK
	// OpJumpAlways skips K instructions (BPF_JMP|BPF_JA).
	OpJumpAlways uint16 = bpfJMP | bpfJA
	// The conditional jumps compare A with K and skip Jt instructions when
	// the comparison holds, Jf when it does not (BPF_JMP|BPF_J*|BPF_K).
	OpJumpEqual        uint16 = bpfJMP | bpfJEQ | bpfK  // A == K
	OpJumpGreater      uint16 = bpfJMP | bpfJGT | bpfK  // A > K
	OpJumpGreaterEqual uint16 = bpfJMP | bpfJGE | bpfK  // A >= K
	OpJumpSet          uint16 = bpfJMP | bpfJSET | bpfK // A & K != 0
	// OpAnd masks A with K (BPF_ALU|BPF_AND|BPF_K): an argument
	// condition with a mask (SCMP_CMP_MASKED_EQ).
	OpAnd uint16 = bpfALU | bpfAND | bpfK
)

// LoadAbsolute is the instruction that loads the word of seccomp_data at
// offset (OffsetNr, OffsetArch, ...) into A.
func LoadAbsolute(offset uint32) Instruction {
	return Instruction{Code: OpLoadAbsolute, K: offset}
}

// Return is the instruction that ends the program with ret, a seccomp return
// value such as RetAllow or RetErrno|errno.
func Return(ret uint32) Instruction {
	return Instruction{Code: OpReturnConstant, K: ret}
}
