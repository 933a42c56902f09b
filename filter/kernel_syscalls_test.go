package filter_test

import (
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/syscalls"
)

// The newest-syscall probe calls every x86_64 number from its floor to the
// table's highest with all-ones arguments. Each of these was reviewed to
// fail on them before doing anything (kernel_syscalls.go says why); a
// regenerated table that adds a number fails here until the new syscall is
// reviewed too and added to this list.
func TestProbedSyscallsReviewed(t *testing.T) {
	reviewed := []string{
		"statmount", "listmount", "lsm_get_self_attr", "lsm_set_self_attr", "lsm_list_modules", "mseal",
		"setxattrat", "getxattrat", "listxattrat", "removexattrat", "open_tree_attr", "file_getattr",
		"file_setattr", "listns", "rseq_slice_yield", "fchroot",
	}
	var probed []string
	for nr := filter.ProbeFloor; nr <= syscalls.Highest(specs.ArchX86_64); nr++ {
		if name, ok := syscalls.Name(specs.ArchX86_64, nr); ok {
			probed = append(probed, name)
		}
	}
	if !slices.Equal(probed, reviewed) {
		t.Errorf("the probe calls %v\nreviewed: %v\nreview each new syscall for all-ones arguments (EFAULT, EBADF or EINVAL before any effect) before adding it", probed, reviewed)
	}
}

// KernelSyscalls.Lacks: only for names at or above the floor, above the
// newest syscall the kernel has, and only when the probe could tell.
func TestSyscallProbeLacks(t *testing.T) {
	for _, tc := range []struct {
		k    filter.KernelSyscalls
		name string
		want bool
	}{
		{filter.KernelSyscalls{Newest: 462, Known: true}, "mseal", false},
		{filter.KernelSyscalls{Newest: 462, Known: true}, "setxattrat", true},
		{filter.KernelSyscalls{Newest: 456, Known: true}, "statmount", true},
		{filter.KernelSyscalls{Newest: 456, Known: true}, "uretprobe", false}, // below the floor: taken as present
		{filter.KernelSyscalls{Newest: 456, Known: true}, "mkdir", false},
		{filter.KernelSyscalls{Newest: 456, Known: true}, "socketcall", false}, // no x86_64 number
		{filter.KernelSyscalls{Newest: 456}, "statmount", false},               // unknown: rules stay as written
	} {
		if got := tc.k.Lacks(tc.name); got != tc.want {
			t.Errorf("%+v.Lacks(%s) = %v, want %v", tc.k, tc.name, got, tc.want)
		}
	}
}
