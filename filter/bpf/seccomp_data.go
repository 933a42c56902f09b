package bpf

import "strconv"

// SeccompData mirrors the kernel's struct seccomp_data: what a seccomp filter
// reads. Offsets: nr 0, arch 4, instruction_pointer 8, args 16+8*i.
type SeccompData struct {
	Nr                 int32
	Arch               uint32
	InstructionPointer uint64
	Args               [6]uint64
}

// Size of struct seccomp_data and offsets of its fields, the K of a
// LoadAbsolute. args[i] is at OffsetArgs+8*i.
const (
	SeccompDataSize          = 64
	OffsetNr                 = 0
	OffsetArch               = 4
	OffsetInstructionPointer = 8
	OffsetArgs               = 16
)

// AUDIT_ARCH_* values a filter sees in seccomp_data.arch (linux/audit.h).
// x32 has no value of its own: it is AUDIT_ARCH_X86_64 with X32SyscallBit set
// in the syscall number. An arm64 kernel reports a 32-bit ARM (AArch32
// compat) task's calls as AUDIT_ARCH_ARM.
const (
	AuditArchX86_64  uint32 = 0xc000003e
	AuditArchI386    uint32 = 0x40000003
	AuditArchAARCH64 uint32 = 0xc00000b7
	AuditArchARM     uint32 = 0x40000028
	X32SyscallBit    int32  = 0x40000000
)

// Seccomp return values (SECCOMP_RET_*, linux/seccomp.h). The low 16 bits
// (RetData) carry the errno for ERRNO and the message for TRACE.
const (
	RetKillProcess uint32 = 0x80000000
	RetKillThread  uint32 = 0x00000000
	RetTrap        uint32 = 0x00030000
	RetErrno       uint32 = 0x00050000
	RetUserNotif   uint32 = 0x7fc00000
	RetTrace       uint32 = 0x7ff00000
	RetLog         uint32 = 0x7ffc0000
	RetAllow       uint32 = 0x7fff0000

	RetActionFull uint32 = 0xffff0000 // SECCOMP_RET_ACTION_FULL
	RetData       uint32 = 0x0000ffff // SECCOMP_RET_DATA
)

// RetAction is the action part of a seccomp return value, as the kernel
// decides it (an unknown action behaves like KILL_PROCESS).
func RetAction(ret uint32) uint32 {
	switch a := ret & RetActionFull; a {
	case RetKillProcess, RetKillThread, RetTrap, RetErrno, RetUserNotif, RetTrace, RetLog, RetAllow:
		return a
	default:
		return RetKillProcess
	}
}

// MoreRestrictive reports whether the kernel lets return value a take
// precedence over b: of two filters' verdicts it keeps the one whose action,
// read as a signed number, is lower (KILL_PROCESS, KILL_THREAD, TRAP, ERRNO,
// USER_NOTIF, TRACE, LOG, ALLOW), whatever their data.
func MoreRestrictive(a, b uint32) bool {
	return int32(RetAction(a)) < int32(RetAction(b))
}

// RetName renders a seccomp return value the way the profile would say it,
// e.g. "SCMP_ACT_ERRNO(1)" or "SCMP_ACT_ALLOW".
func RetName(ret uint32) string {
	data := ret & RetData
	switch RetAction(ret) {
	case RetKillProcess:
		return "SCMP_ACT_KILL_PROCESS"
	case RetKillThread:
		return "SCMP_ACT_KILL_THREAD"
	case RetTrap:
		return "SCMP_ACT_TRAP"
	case RetErrno:
		return "SCMP_ACT_ERRNO(" + itoa(data) + ")"
	case RetUserNotif:
		return "SCMP_ACT_NOTIFY"
	case RetTrace:
		return "SCMP_ACT_TRACE(" + itoa(data) + ")"
	case RetLog:
		return "SCMP_ACT_LOG"
	default:
		return "SCMP_ACT_ALLOW"
	}
}

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
