package filter

import (
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"

	"github.com/sysgate/sysgate/filter/syscalls"
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

// The architectures sysgate compiles for: the families of its machines
// (machine.go), x86 and arm. Other SCMP_ARCH_* names libseccomp knows are
// other machines' (IsForeignArch): accepted and left out.
var arches = map[specs.Arch]libseccomp.ScmpArch{
	specs.ArchX86_64:  libseccomp.ArchAMD64,
	specs.ArchX86:     libseccomp.ArchX86,
	specs.ArchX32:     libseccomp.ArchX32,
	specs.ArchAARCH64: libseccomp.ArchARM64,
	specs.ArchARM:     libseccomp.ArchARM,
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

// KnownArches lists the SCMP_ARCH_* names sysgate compiles for, on some
// machine.
func KnownArches() []string { return sortedKeys(arches) }

// KnownFlags lists the SECCOMP_FILTER_FLAG_* names a profile may use.
func KnownFlags() []string { return sortedKeys(flags) }

// IsKnownAction, IsKnownOperator, IsKnownArch and IsKnownFlag answer for one
// name.
func IsKnownAction(a specs.LinuxSeccompAction) bool     { _, ok := actions[a]; return ok }
func IsKnownOperator(o specs.LinuxSeccompOperator) bool { _, ok := operators[o]; return ok }
func IsKnownArch(a specs.Arch) bool                     { _, ok := arches[a]; return ok }
func IsKnownFlag(f specs.LinuxSeccompFlag) bool         { _, ok := flags[f]; return ok }

// SyscallNumber resolves a syscall name for one architecture from sysgate's
// own table (package filter/syscalls, Linux syscalls.KernelVersion), the way
// the kernel numbers it for that ABI: x32 numbers carry X32SyscallBit, and
// i386 names the kernel also reaches through socketcall or ipc (socket,
// shmget, ...) have their direct numbers. ok is false for an architecture
// sysgate does not compile for and for a name the ABI does not have. The
// compiler, the validator, the explainer and the interpreter's tests all
// read this one table, whatever libseccomp's age.
func SyscallNumber(name string, arch specs.Arch) (nr int32, ok bool) {
	if !IsKnownArch(arch) {
		return 0, false
	}
	n, ok := syscalls.Number(arch, name)
	return int32(n), ok
}

// SyscallName is the inverse of SyscallNumber.
func SyscallName(nr int32, arch specs.Arch) (string, bool) {
	if !IsKnownArch(arch) {
		return "", false
	}
	return syscalls.Name(arch, int(nr))
}

// IsKnownSyscall reports whether name is a syscall at all: of any ABI in
// sysgate's table (x86_64, x86, x32, aarch64, arm), or of any architecture
// libseccomp knows (mips, ppc, s390, ... get pseudo-syscall numbers on the
// x86 family). A name neither knows is most likely a typo.
func IsKnownSyscall(name string) bool {
	if syscalls.Known(name) {
		return true
	}
	_, err := libseccomp.GetSyscallFromName(name)
	return err == nil
}

// LibseccompKnows reports whether the linked libseccomp can put a rule for
// name into a filter for arch: it resolves the name to a real number there,
// or, on x86 (i386), to one of the calls it rewrites into rules for the
// multiplexer (socketcall, ipc) and the direct syscall.
func LibseccompKnows(name string, arch specs.Arch) bool {
	sc, err := libseccompResolve(name, arch)
	return err == nil && (sc >= 0 || (arch == specs.ArchX86 && multiplexedOnI386(sc)))
}

// libseccompResolve is libseccomp's number for name on arch: negative for
// its pseudo-syscalls, an error for a name it does not know.
func libseccompResolve(name string, arch specs.Arch) (int32, error) {
	a, ok := arches[arch]
	if !ok {
		return 0, fmt.Errorf("architecture %s is not one sysgate compiles for", arch)
	}
	sc, err := libseccomp.GetSyscallFromNameByArch(name, a)
	return int32(sc), err
}

// multiplexedOnI386 reports whether sc is one of libseccomp's
// pseudo-syscall numbers for the calls i386 reaches through socketcall
// (__PNR_socket -101 to __PNR_sendmmsg -120) or ipc (__PNR_semop -201 to
// __PNR_shmctl -224); any other negative number means "not on this ABI".
func multiplexedOnI386(sc int32) bool {
	return (sc <= -101 && sc >= -120) || (sc <= -201 && sc >= -224)
}

// FilteredByNumber reports whether sysgate filters name on arch by its
// number from its own table, because the linked libseccomp cannot name it
// there (a syscall newer than the library: mseal, listmount, statmount, ...
// with Debian 12's 2.5.4), and returns that number.
func FilteredByNumber(name string, arch specs.Arch) (nr int32, ok bool) {
	nr, inTable := SyscallNumber(name, arch)
	if !inTable || LibseccompKnows(name, arch) {
		return 0, false
	}
	return nr, true
}

// resolver answers, once per name and ABI within one compile, what
// libseccomp and the table make of a name: a compile asks about each name
// of the profile for every ABI more than once, and each libseccomp lookup
// is a cgo call.
type resolver struct {
	opts Options
	memo map[nameOnArch]resolved
}

type nameOnArch struct {
	name string
	arch specs.Arch
}

type resolved struct {
	// libNr is libseccomp's real number for the name, when libReal.
	libNr   int32
	libReal bool
	// nr is the table's number, when sysgate filters the name by number
	// (byNumber): libseccomp cannot name it there, or a test forces it.
	nr       int32
	byNumber bool
}

func newResolver(opts Options) *resolver {
	return &resolver{opts: opts, memo: map[nameOnArch]resolved{}}
}

func (r *resolver) resolve(name string, arch specs.Arch) resolved {
	key := nameOnArch{name, arch}
	if v, ok := r.memo[key]; ok {
		return v
	}
	var v resolved
	sc, err := libseccompResolve(name, arch)
	knows := err == nil && (sc >= 0 || (arch == specs.ArchX86 && multiplexedOnI386(sc)))
	v.libNr, v.libReal = sc, err == nil && sc >= 0
	if nr, inTable := SyscallNumber(name, arch); inTable && !r.opts.LibseccompOnly && (!knows || r.opts.forceNumbered[name]) {
		v.nr, v.byNumber = nr, true
	}
	r.memo[key] = v
	return v
}

func sortedKeys[K ~string, V any](m map[K]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}

// IsForeignArch reports whether a names an architecture libseccomp knows
// that is not of this node's family (x86 on an x86 node, arm on an arm64
// one): a profile shared across a mixed cluster lists them, and runc and
// crun accept them. The node's kernel never reports them in
// seccomp_data.arch, so their sections could never match: sysgate leaves
// them out of the program (Program.ForeignArches).
func IsForeignArch(a specs.Arch) bool { return isForeignTo(NodeMachine(), a) }

// IsNodeArch reports whether a is one of this node's ABIs.
func IsNodeArch(a specs.Arch) bool { m := NodeMachine(); return m != nil && m.Has(a) }

// NodeArches are this node's ABIs, native first (x86_64, x32, x86 on x86).
func NodeArches() []specs.Arch {
	if m := NodeMachine(); m != nil {
		return m.Arches()
	}
	return nil
}

func isForeignTo(m *Machine, a specs.Arch) bool {
	if (m != nil && m.Has(a)) || !strings.HasPrefix(string(a), "SCMP_ARCH_") {
		return false
	}
	if IsKnownArch(a) {
		return true
	}
	_, err := libseccomp.GetArchFromString(strings.ToLower(strings.TrimPrefix(string(a), "SCMP_ARCH_")))
	return err == nil
}
