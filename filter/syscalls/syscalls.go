package syscalls

import (
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// entry is one syscall of one ABI: its number as seccomp sees it (with
// X32SyscallBit on x32) and its name.
type entry struct {
	nr   int
	name string
}

// table is one ABI's syscalls, generated into table.go.
type table struct {
	// byNumber holds each number once, under the kernel's name for it, in
	// ascending order.
	byNumber []entry
	// byName holds every name Number resolves, in ascending order: the
	// names of byNumber and the header's aliases (arm's sync_file_range2).
	byName []entry
	// highest is the highest number of the kernel's syscall table proper:
	// arm's private calls at 0x0f0000 and above are not in it.
	highest int
}

// archTable pairs an ABI with its table; tables (table.go) lists them.
type archTable struct {
	arch  specs.Arch
	table *table
}

func lookup(arch specs.Arch) *table {
	for _, at := range tables {
		if at.arch == arch {
			return at.table
		}
	}
	return nil
}

// Arches lists the architectures the table covers, in a fixed order:
// x86_64, x86 (i386), x32, aarch64, arm.
func Arches() []specs.Arch {
	out := make([]specs.Arch, len(tables))
	for i := range tables {
		out[i] = tables[i].arch
	}
	return out
}

// Number is the number of the syscall name on arch, as seccomp sees it
// (seccomp_data.nr): on x32 it includes X32SyscallBit. It is false for an
// arch the table does not cover and for a name the ABI does not have (open on
// aarch64, socketcall on x86_64).
func Number(arch specs.Arch, name string) (int, bool) {
	t := lookup(arch)
	if t == nil {
		return 0, false
	}
	i, ok := slices.BinarySearchFunc(t.byName, name, func(e entry, name string) int { return strings.Compare(e.name, name) })
	if !ok {
		return 0, false
	}
	return t.byName[i].nr, true
}

// Name is the kernel's name for syscall nr on arch (nr as Number gives it:
// with X32SyscallBit on x32). Where a header gives a number two names
// (arm's arm_sync_file_range and sync_file_range2) it is the syscall table's.
func Name(arch specs.Arch, nr int) (string, bool) {
	t := lookup(arch)
	if t == nil {
		return "", false
	}
	i, ok := slices.BinarySearchFunc(t.byNumber, nr, func(e entry, nr int) int { return e.nr - nr })
	if !ok {
		return "", false
	}
	return t.byNumber[i].name, true
}

// Names lists, in ascending order, every name Number resolves on arch; nil
// for an arch the table does not cover. The slice is the caller's.
func Names(arch specs.Arch) []string {
	t := lookup(arch)
	if t == nil {
		return nil
	}
	out := make([]string, len(t.byName))
	for i, e := range t.byName {
		out[i] = e.name
	}
	return out
}

// Highest is the highest number in arch's syscall table (with X32SyscallBit
// on x32); -1 for an arch the table does not cover. arm's private calls
// (0x0f0001 and up, outside the kernel's syscall table) do not count: a
// number above Highest that is not one of them is a syscall of a kernel newer
// than KernelVersion, or none at all.
func Highest(arch specs.Arch) int {
	t := lookup(arch)
	if t == nil {
		return -1
	}
	return t.highest
}

// Known reports whether any ABI in the table has a syscall called name.
func Known(name string) bool {
	for i := range tables {
		if _, ok := Number(tables[i].arch, name); ok {
			return true
		}
	}
	return false
}
