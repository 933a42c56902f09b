package filter

import (
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
)

// The tables below are the only place where profile spellings meet
// libseccomp and kernel constants; the validator (package spec) reads them so
// that "known" means the same thing when validating and when compiling.

var actions = map[specs.LinuxSeccompAction]libseccomp.ScmpAction{
	specs.ActAllow:       libseccomp.ActAllow,
	specs.ActErrno:       libseccomp.ActErrno,
	specs.ActKill:        libseccomp.ActKillThread, // SCMP_ACT_KILL has always meant the thread
	specs.ActKillThread:  libseccomp.ActKillThread,
	specs.ActKillProcess: libseccomp.ActKillProcess,
	specs.ActTrap:        libseccomp.ActTrap,
	specs.ActTrace:       libseccomp.ActTrace,
	specs.ActLog:         libseccomp.ActLog,
	specs.ActNotify:      libseccomp.ActNotify,
}

var operators = map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
	specs.OpNotEqual:     libseccomp.CompareNotEqual,
	specs.OpLessThan:     libseccomp.CompareLess,
	specs.OpLessEqual:    libseccomp.CompareLessOrEqual,
	specs.OpEqualTo:      libseccomp.CompareEqual,
	specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
	specs.OpGreaterThan:  libseccomp.CompareGreater,
	specs.OpMaskedEqual:  libseccomp.CompareMaskedEqual,
}

// sysgate targets the x86 family only: these are the architectures a profile
// may name. Other SCMP_ARCH_* names are known to the OCI spec but refused,
// because a filter for them could never run on the nodes sysgate serves.
var arches = map[specs.Arch]libseccomp.ScmpArch{
	specs.ArchX86_64: libseccomp.ArchAMD64,
	specs.ArchX86:    libseccomp.ArchX86,
	specs.ArchX32:    libseccomp.ArchX32,
}

// SECCOMP_FILTER_FLAG_* (linux/seccomp.h) that a profile may ask for.
const (
	flagTSync            = 1 << 0
	flagLog              = 1 << 1
	flagSpecAllow        = 1 << 2
	flagNewListener      = 1 << 3
	flagTSyncESRCH       = 1 << 4
	flagWaitKillableRecv = 1 << 5
)

var flags = map[specs.LinuxSeccompFlag]uint{
	specs.LinuxSeccompFlagLog:                flagLog,
	specs.LinuxSeccompFlagSpecAllow:          flagSpecAllow,
	"SECCOMP_FILTER_FLAG_TSYNC":              flagTSync,
	"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": flagWaitKillableRecv,
}

// KnownActions lists the SCMP_ACT_* names a profile may use.
func KnownActions() []string { return sortedKeys(actions) }

// KnownOperators lists the SCMP_CMP_* names a profile may use.
func KnownOperators() []string { return sortedKeys(operators) }

// KnownArches lists the SCMP_ARCH_* names sysgate compiles for.
func KnownArches() []string { return sortedKeys(arches) }

// KnownFlags lists the SECCOMP_FILTER_FLAG_* names a profile may use.
func KnownFlags() []string { return sortedKeys(flags) }

// IsKnownAction, IsKnownOperator, IsKnownArch and IsKnownFlag answer for one
// name.
func IsKnownAction(a specs.LinuxSeccompAction) bool     { _, ok := actions[a]; return ok }
func IsKnownOperator(o specs.LinuxSeccompOperator) bool { _, ok := operators[o]; return ok }
func IsKnownArch(a specs.Arch) bool                     { _, ok := arches[a]; return ok }
func IsKnownFlag(f specs.LinuxSeccompFlag) bool         { _, ok := flags[f]; return ok }

// SyscallNumber resolves a syscall name for one architecture, the way the
// kernel numbers it for that ABI (x32 numbers carry X32SyscallBit). ok is
// false when libseccomp does not know the name for that architecture.
func SyscallNumber(name string, arch specs.Arch) (nr int32, ok bool) {
	a, known := arches[arch]
	if !known {
		return 0, false
	}
	sc, err := libseccomp.GetSyscallFromNameByArch(name, a)
	if err != nil || sc < 0 {
		return 0, false
	}
	return int32(sc), true
}

// IsKnownSyscall reports whether libseccomp knows the name on any of the
// architectures sysgate compiles for.
func IsKnownSyscall(name string) bool {
	for arch := range arches {
		if _, ok := SyscallNumber(name, arch); ok {
			return true
		}
	}
	return false
}

// SyscallName is the inverse of SyscallNumber.
func SyscallName(nr int32, arch specs.Arch) (string, bool) {
	a, known := arches[arch]
	if !known {
		return "", false
	}
	name, err := libseccomp.ScmpSyscall(nr).GetNameByArch(a)
	if err != nil || name == "" {
		return "", false
	}
	return name, true
}

func sortedKeys[K ~string, V any](m map[K]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}
