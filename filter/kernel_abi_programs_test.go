package filter

import (
	"bytes"
	"debug/elf"
	"testing"
)

// The probe programs are hand-assembled: debug/elf must read each as a
// static executable whose single loadable segment holds the whole file and
// whose entry point is the first instruction.
func TestABIProgramsAreWellFormedELF(t *testing.T) {
	for _, tc := range []struct {
		name    string
		image   []byte
		class   elf.Class
		machine elf.Machine
	}{
		{"int80 getpid", int80GetpidProgram(), elf.ELFCLASS64, elf.EM_X86_64},
		{"x32 getpid", x32GetpidProgram(), elf.ELFCLASS64, elf.EM_X86_64},
		{"i386 exit", i386ExitProgram(), elf.ELFCLASS32, elf.EM_386},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := elf.NewFile(bytes.NewReader(tc.image))
			if err != nil {
				t.Fatal(err)
			}
			if f.Class != tc.class || f.Machine != tc.machine || f.Type != elf.ET_EXEC {
				t.Fatalf("class %v machine %v type %v", f.Class, f.Machine, f.Type)
			}
			if len(f.Progs) != 1 || f.Progs[0].Type != elf.PT_LOAD || f.Progs[0].Off != 0 ||
				f.Progs[0].Filesz != uint64(len(tc.image)) || f.Progs[0].Flags != elf.PF_R|elf.PF_X {
				t.Fatalf("program headers: %+v", f.Progs)
			}
			p := f.Progs[0]
			codeOff := f.Entry - p.Vaddr
			if f.Entry < p.Vaddr || codeOff >= p.Filesz {
				t.Fatalf("entry %#x outside the segment at %#x (+%d)", f.Entry, p.Vaddr, p.Filesz)
			}
			hdr := map[elf.Class]uint64{elf.ELFCLASS64: 64 + 56, elf.ELFCLASS32: 52 + 32}[tc.class]
			if codeOff != hdr {
				t.Errorf("code starts at %d, want right after the headers at %d", codeOff, hdr)
			}
		})
	}
}

func TestFormatABIs(t *testing.T) {
	got := FormatABIs([]ABIStatus{{ABI: ABIX86_64, Live: true}, {ABI: ABII386, Reason: "IA-32 emulation off"}, {ABI: ABIX32, Reason: "x32 ABI off"}})
	if want := "x86_64 yes, i386 no (IA-32 emulation off), x32 no (x32 ABI off)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
