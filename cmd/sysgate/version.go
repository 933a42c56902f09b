package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/syscalls"
	"golang.org/x/sys/unix"
)

type versionInfo struct {
	Sysgate         string `json:"sysgate"`
	Libseccomp      string `json:"libseccomp"`
	LibseccompBuild string `json:"libseccompBuild"`
	// SyscallTable is the Linux release sysgate's own syscall table comes
	// from: the names it filters by number when libseccomp cannot name
	// them.
	SyscallTable string `json:"syscallTable"`
	// KernelSyscalls is what the running kernel answers for the newest
	// syscalls of that table.
	KernelSyscalls filter.KernelSyscalls `json:"kernelSyscalls"`
	Kernel         string                `json:"kernel"`
	KernelActions  []string              `json:"kernelActions"`
	KernelFlags    []string              `json:"kernelFlags"`
	// ABIs are the syscall entries the running kernel offers; a node
	// without IA-32 emulation or x32 is a configuration, not a fault.
	ABIs []filter.ABIStatus `json:"abis"`
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", "[--output text|json]", stdout)
	output := outputFlag(fs)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	var u unix.Utsname
	_ = unix.Uname(&u)
	info := versionInfo{
		Sysgate:         version,
		Libseccomp:      filter.LibseccompVersion(),
		LibseccompBuild: filter.LibseccompBuildVersion(),
		SyscallTable:    syscalls.KernelVersion,
		KernelSyscalls:  filter.RunningKernelSyscalls(),
		Kernel:          unix.ByteSliceToString(u.Release[:]),
		KernelActions:   filter.KernelActions(),
		KernelFlags:     filter.KernelFlags(),
		ABIs:            filter.HostABIs(),
	}
	if *output == "json" {
		return writeJSON(stdout, info)
	}
	fmt.Fprintf(stdout, "sysgate:          %s\nlibseccomp:       %s (built against %s)\nsyscall table:    Linux %s\nkernel:           %s\nkernel syscalls:  %s\nkernel actions:   %s\nkernel flags:     %s\nabi:              %s\n",
		info.Sysgate, info.Libseccomp, info.LibseccompBuild, info.SyscallTable, info.Kernel, info.KernelSyscalls,
		strings.Join(info.KernelActions, " "), strings.Join(info.KernelFlags, " "), filter.FormatABIs(info.ABIs))
	return nil
}
