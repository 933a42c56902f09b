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
	const base = 0x400000
	hdrSize := binary.Size(elf.Header64{}) + binary.Size(elf.Prog64{})
	size := uint64(hdrSize + len(code))
	var b bytes.Buffer
	h := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Entry: base + uint64(hdrSize), Phoff: uint64(binary.Size(elf.Header64{})),
		Ehsize: uint16(binary.Size(elf.Header64{})), Phentsize: uint16(binary.Size(elf.Prog64{})), Phnum: 1,
	}
	copy(h.Ident[:], elfIdent(elf.ELFCLASS64))
	p := elf.Prog64{
		Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X),
		Vaddr: base, Paddr: base, Filesz: size, Memsz: size, Align: 0x1000,
	}
	_ = binary.Write(&b, binary.LittleEndian, h)
	_ = binary.Write(&b, binary.LittleEndian, p)
	b.Write(code)
	return b.Bytes()
}

// elf32Program is elf64Program for i386.
func elf32Program(code []byte) []byte {
	const base = 0x08048000
	hdrSize := binary.Size(elf.Header32{}) + binary.Size(elf.Prog32{})
	size := uint32(hdrSize + len(code))
	var b bytes.Buffer
	h := elf.Header32{
		Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_386), Version: uint32(elf.EV_CURRENT),
		Entry: base + uint32(hdrSize), Phoff: uint32(binary.Size(elf.Header32{})),
		Ehsize: uint16(binary.Size(elf.Header32{})), Phentsize: uint16(binary.Size(elf.Prog32{})), Phnum: 1,
	}
	copy(h.Ident[:], elfIdent(elf.ELFCLASS32))
	p := elf.Prog32{
		Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X),
		Vaddr: base, Paddr: base, Filesz: size, Memsz: size, Align: 0x1000,
	}
	_ = binary.Write(&b, binary.LittleEndian, h)
	_ = binary.Write(&b, binary.LittleEndian, p)
	b.Write(code)
	return b.Bytes()
}

func elfIdent(class elf.Class) []byte {
	return []byte{0x7f, 'E', 'L', 'F', byte(class), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT), byte(elf.ELFOSABI_NONE)}
}
