package filter

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
)

// The ABI probes are three static programs of a few instructions each,
// assembled here so that `sysgate version` and the conformance suite need no
// compiler and no file beside the binary. Each exits 0 when its call
// returned a non-negative value and 1 when it returned an error; a kernel
// that faults the entry kills it with a signal.

// int80GetpidProgram: getpid through int $0x80 from 64-bit code.
func int80GetpidProgram() []byte {
	return elf64Program([]byte{
		0xb8, 0x14, 0x00, 0x00, 0x00, // mov eax, 20 (i386 getpid)
		0xcd, 0x80, // int 0x80
		0x31, 0xff, // xor edi, edi
		0x85, 0xc0, // test eax, eax (the i386 ABI returns 32 bits)
		0x79, 0x05, // jns exit
		0xbf, 0x01, 0x00, 0x00, 0x00, // mov edi, 1
		0xb8, 0x3c, 0x00, 0x00, 0x00, // exit: mov eax, 60 (x86_64 exit)
		0x0f, 0x05, // syscall
	})
}

// x32GetpidProgram: getpid with the x32 bit (0x40000000 | 39).
func x32GetpidProgram() []byte {
	return elf64Program([]byte{
		0xb8, 0x27, 0x00, 0x00, 0x40, // mov eax, 0x40000027
		0x0f, 0x05, // syscall
		0x31, 0xff, // xor edi, edi
		0x48, 0x85, 0xc0, // test rax, rax
		0x79, 0x05, // jns exit
		0xbf, 0x01, 0x00, 0x00, 0x00, // mov edi, 1
		0xb8, 0x3c, 0x00, 0x00, 0x00, // exit: mov eax, 60
		0x0f, 0x05, // syscall
	})
}

// i386ExitProgram: a real i386 binary that exits 0; its exec fails with
// ENOEXEC on a kernel without IA-32 emulation.
func i386ExitProgram() []byte {
	return elf32Program([]byte{
		0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax, 1 (i386 exit)
		0x31, 0xdb, // xor ebx, ebx
		0xcd, 0x80, // int 0x80
	})
}

// elf64Program is a static ET_EXEC image: the ELF header, one PT_LOAD
// segment mapping the whole file read+execute, and the code right after
// the program header, where execution starts.
func elf64Program(code []byte) []byte {
	return elfProgram(elf.ELFCLASS64, elf.EM_X86_64, 0x400000, code)
}

// elf32Program is elf64Program for i386.
func elf32Program(code []byte) []byte {
	return elfProgram(elf.ELFCLASS32, elf.EM_386, 0x08048000, code)
}

// elfProgram writes the headers field by field (ELF's two classes differ
// only in the width of addresses and offsets, and in where the program
// header keeps its flags).
func elfProgram(class elf.Class, machine elf.Machine, base uint64, code []byte) []byte {
	ehsize, phentsize := uint64(binary.Size(elf.Header32{})), uint64(binary.Size(elf.Prog32{}))
	if class == elf.ELFCLASS64 {
		ehsize, phentsize = uint64(binary.Size(elf.Header64{})), uint64(binary.Size(elf.Prog64{}))
	}
	size := ehsize + phentsize + uint64(len(code))
	var b bytes.Buffer
	put := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	word := func(v uint64) { // an address or offset: 4 or 8 bytes
		if class == elf.ELFCLASS64 {
			put(v)
		} else {
			put(uint32(v))
		}
	}
	b.Write([]byte{0x7f, 'E', 'L', 'F', byte(class), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT), byte(elf.ELFOSABI_NONE)})
	b.Write(make([]byte, elf.EI_NIDENT-8))
	put(uint16(elf.ET_EXEC))
	put(uint16(machine))
	put(uint32(elf.EV_CURRENT))
	word(base + ehsize + phentsize) // entry: the first instruction
	word(ehsize)                    // program headers right after this one
	word(0)                         // no section headers
	put(uint32(0))                  // flags
	put(uint16(ehsize))
	put(uint16(phentsize))
	put(uint16(1))
	put([3]uint16{}) // section header size, count, names index
	flags := uint32(elf.PF_R | elf.PF_X)
	put(uint32(elf.PT_LOAD))
	if class == elf.ELFCLASS64 {
		put(flags)
	}
	word(0)    // offset: the whole file
	word(base) // vaddr
	word(base) // paddr
	word(size) // filesz
	word(size) // memsz
	if class == elf.ELFCLASS32 {
		put(flags)
	}
	word(0x1000) // align
	b.Write(code)
	return b.Bytes()
}
