package denials

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter/bpf"
	"github.com/sysgate/sysgate/filter/syscalls"
)

// Syscall is a record's syscall, named in its own ABI.
type Syscall struct {
	ABI  string     // x86_64, i386, x32, aarch64, arm, or arch=0x... when unknown
	Arch specs.Arch // the profile's name of the ABI; empty when unknown
	Nr   int        // the number within the ABI (without the x32 bit)
	Name string     // the kernel's name, or "(unknown nr N)"
	// Bypass: an i386 or x32 call on an x86_64 node, or a 32-bit ARM
	// (AArch32 compat) call on an arm64 node: the ABI-bypass attempt a
	// profile written for the native ABI's names must still stop.
	Bypass bool
}

// NameSyscall names the record's syscall in its ABI. The same number means
// different calls in different ABIs (5 is fstat on x86_64, open on i386),
// so the arch decides which table is read.
func NameSyscall(arch uint32, nr int32) Syscall {
	var s Syscall
	switch {
	case arch == bpf.AuditArchX86_64 && nr&bpf.X32SyscallBit != 0:
		s = Syscall{ABI: "x32", Arch: specs.ArchX32, Nr: int(nr &^ bpf.X32SyscallBit), Bypass: true}
	case arch == bpf.AuditArchX86_64:
		s = Syscall{ABI: "x86_64", Arch: specs.ArchX86_64, Nr: int(nr)}
	case arch == bpf.AuditArchI386:
		s = Syscall{ABI: "i386", Arch: specs.ArchX86, Nr: int(nr), Bypass: true}
	case arch == bpf.AuditArchAARCH64:
		s = Syscall{ABI: "aarch64", Arch: specs.ArchAARCH64, Nr: int(nr)}
	case arch == bpf.AuditArchARM:
		s = Syscall{ABI: "arm", Arch: specs.ArchARM, Nr: int(nr), Bypass: true}
	default:
		return Syscall{ABI: fmt.Sprintf("arch=0x%x", arch), Nr: int(nr), Name: fmt.Sprintf("(unknown nr %d)", nr)}
	}
	if name, ok := syscalls.Name(s.Arch, int(nr)); ok {
		s.Name = name
	} else {
		s.Name = fmt.Sprintf("(unknown nr %d)", s.Nr)
	}
	return s
}

// ActionName is the kernel's outcome as a profile says it. The audit
// record carries the action without its data, so ERRNO and TRACE are
// named without a number (the interpreter supplies it when it can).
func ActionName(code uint32) string {
	switch bpf.RetAction(code) {
	case bpf.RetErrno:
		return "SCMP_ACT_ERRNO"
	case bpf.RetTrace:
		return "SCMP_ACT_TRACE"
	}
	return bpf.RetName(code)
}
