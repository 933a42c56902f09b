package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/syscalls"
)

// sysgate version reports the syscall table's release, what the kernel
// answers for its newest syscalls and the kernel's ABIs as the probes found
// them, the same in text and JSON.
func TestVersionReportsABIs(t *testing.T) {
	code, text, stderr := runCLI("version")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "abi:              " + filter.FormatABIs(filter.HostABIs()) + "\n"
	if !strings.Contains(text, want) {
		t.Errorf("text output lacks %q:\n%s", want, text)
	}
	if want := "syscall table:    Linux " + syscalls.KernelVersion + "\n"; !strings.Contains(text, want) {
		t.Errorf("text output lacks %q:\n%s", want, text)
	}
	if want := "kernel syscalls:  " + filter.RunningKernelSyscalls().String() + "\n"; !strings.Contains(text, want) {
		t.Errorf("text output lacks %q:\n%s", want, text)
	}
	if !strings.Contains(text, "x86_64 yes") {
		t.Errorf("x86_64 must be live on the kernel that runs this test:\n%s", text)
	}
	code, js, stderr := runCLI("version", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var info versionInfo
	if err := json.Unmarshal([]byte(js), &info); err != nil {
		t.Fatal(err)
	}
	if info.SyscallTable != syscalls.KernelVersion || info.KernelSyscalls != filter.RunningKernelSyscalls() {
		t.Errorf("JSON: syscallTable %q, kernelSyscalls %+v; want %q and %+v", info.SyscallTable, info.KernelSyscalls, syscalls.KernelVersion, filter.RunningKernelSyscalls())
	}
	if len(info.ABIs) != 3 {
		t.Fatalf("abis = %+v, want x86_64, i386 and x32", info.ABIs)
	}
	for i, abi := range []string{filter.ABIX86_64, filter.ABII386, filter.ABIX32} {
		got := info.ABIs[i]
		if got.ABI != abi || got.Live != filter.HostABI(abi).Live || (got.Live != (got.Reason == "")) {
			t.Errorf("abis[%d] = %+v, want %s as probed (%v), with a reason exactly when not live", i, got, abi, filter.HostABI(abi))
		}
	}
}
