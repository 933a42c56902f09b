package syscalls_test

import (
	"maps"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"

	"github.com/sysgate/sysgate/filter/syscalls"
)

// This test links libseccomp (cgo); the package itself does not.

var scmpArches = map[specs.Arch]libseccomp.ScmpArch{
	specs.ArchX86_64:  libseccomp.ArchAMD64,
	specs.ArchX86:     libseccomp.ArchX86,
	specs.ArchX32:     libseccomp.ArchX32,
	specs.ArchAARCH64: libseccomp.ArchARM64,
	specs.ArchARM:     libseccomp.ArchARM,
}

// Names to which libseccomp gives a pseudo-syscall number (negative: "no
// such syscall on this ABI, or one I rewrite") on an ABI whose kernel table
// has them. Any other such name fails the test.
var pseudoInLibseccomp = map[specs.Arch]map[string]string{
	specs.ArchX86: setOf("i386 reaches these through the multiplexers socketcall(102) and ipc(117) "+
		"and, since 4.3 (sockets) and 5.1 (SysV IPC), directly; libseccomp numbers them as "+
		"pseudo-syscalls and turns a rule into rules for both ways in, the table has the direct numbers only",
		"accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt", "listen",
		"recvfrom", "recvmmsg", "recvmsg", "sendmmsg", "sendmsg", "sendto", "setsockopt",
		"shutdown", "socket", "socketpair",
		"msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget", "shmat", "shmctl", "shmdt", "shmget"),
	specs.ArchX32: setOf("a \"common\" row of syscall_64.tbl (in 6.12 as in 7.3), so x32 has it; "+
		"libseccomp 2.5.4's table gives it to x86_64 only", "map_shadow_stack"),
	specs.ArchARM: setOf("arm's asm/unistd.h defines __NR_sync_file_range2 as __NR_arm_sync_file_range (341); "+
		"libseccomp knows 341 only as arm_sync_file_range", "sync_file_range2"),
}

func setOf(why string, names ...string) map[string]string {
	m := map[string]string{}
	for _, n := range names {
		m[n] = why
	}
	return m
}

// libseccompNames gathers every name libseccomp knows, on any architecture
// it supports, by asking it to name each number in the ranges its tables use
// (libseccomp-golang has no call that lists them).
func libseccompNames(t *testing.T) map[string]bool {
	names := map[string]bool{}
	all := []libseccomp.ScmpArch{libseccomp.ArchX86, libseccomp.ArchAMD64, libseccomp.ArchX32,
		libseccomp.ArchARM, libseccomp.ArchARM64, libseccomp.ArchMIPS, libseccomp.ArchMIPS64,
		libseccomp.ArchMIPS64N32, libseccomp.ArchMIPSEL, libseccomp.ArchMIPSEL64, libseccomp.ArchMIPSEL64N32,
		libseccomp.ArchPPC, libseccomp.ArchPPC64, libseccomp.ArchPPC64LE, libseccomp.ArchS390,
		libseccomp.ArchS390X, libseccomp.ArchPARISC, libseccomp.ArchPARISC64, libseccomp.ArchRISCV64}
	// x32's bit, arm's private calls, mips' o32/n64/n32 bases.
	bases := []int{0, syscalls.X32SyscallBit, 0x0f0000, 4000, 5000, 6000}
	for _, arch := range all {
		for _, base := range bases {
			for nr := base; nr < base+1024; nr++ {
				if name, err := libseccomp.ScmpSyscall(nr).GetNameByArch(arch); err == nil {
					names[name] = true
				}
			}
		}
	}
	if len(names) < 400 {
		t.Fatalf("libseccomp named only %d syscalls", len(names))
	}
	return names
}

// For every ABI, every name that libseccomp resolves to a real number must
// have that number in the table: the table may know more than libseccomp,
// never differently.
func TestAgreesWithLibseccomp(t *testing.T) {
	major, minor, micro := libseccomp.GetLibraryVersion()
	t.Logf("libseccomp %d.%d.%d; table of Linux %s", major, minor, micro, syscalls.KernelVersion)
	candidates := libseccompNames(t)
	for _, arch := range syscalls.Arches() {
		for _, n := range syscalls.Names(arch) {
			candidates[n] = true
		}
	}
	names := slices.Sorted(maps.Keys(candidates))

	for _, arch := range syscalls.Arches() {
		scmpArch, ok := scmpArches[arch]
		if !ok {
			t.Fatalf("no libseccomp arch for %s", arch)
		}
		var beyond []string
		for _, name := range names {
			mine, inTable := syscalls.Number(arch, name)
			nr, err := libseccomp.GetSyscallFromNameByArch(name, scmpArch)
			theirs := int(int32(nr))
			switch {
			case err != nil:
				if inTable {
					beyond = append(beyond, name)
				}
			case theirs < 0:
				if inTable && pseudoInLibseccomp[arch][name] == "" {
					t.Errorf("%s %s: libseccomp has pseudo-syscall %d, the kernel's table %#x", arch, name, theirs, mine)
				}
			case !inTable:
				t.Errorf("%s %s: libseccomp has %#x, the table nothing", arch, name, theirs)
			case mine != theirs:
				t.Errorf("%s %s: libseccomp has %#x, the table %#x", arch, name, theirs, mine)
			}
		}
		t.Logf("%s: %d names, %d of them unknown to libseccomp: %v", arch, len(syscalls.Names(arch)), len(beyond), beyond)
		if arch == specs.ArchX86_64 {
			for _, want := range []string{"mseal", "listmount", "statmount"} {
				if !slices.Contains(beyond, want) {
					t.Errorf("x86_64: %s is not among the names libseccomp lacks", want)
				}
			}
		}
	}
}
