package filter

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/sysgate/sysgate/filter/syscalls"
)

// Which of the syscalls sysgate filters by number does the running kernel
// have? sysgate's table comes from a newer kernel than most nodes run, and a
// rule by number for a syscall the kernel lacks compiles to ENOSYS, the
// kernel's own answer (numbered.go). Neither the release nor the table can
// say: distributions backport syscalls, and the table holds no "since"
// versions. The kernel can: a number it lacks returns ENOSYS without doing
// anything. So the probe asks it, calling the table's x86_64 numbers from
// the highest down to probeFloor with every argument -1, until one returns
// anything but ENOSYS: that is the newest syscall the kernel has, and every
// table number above it is one it lacks. Numbers are never reused, and new
// syscalls come in at the top of the table, on every ABI at once (x86 and
// x32 share the "common" rows), so the x86_64 answer stands for all three.
// Below the floor the probe cannot see: holes filled later (uretprobe, 335,
// Linux 6.11) are taken as present there, and their rules stay as written.
//
// Every syscall from probeFloor to the table's highest fails on all-ones
// arguments before it does anything: -1 is no valid pointer, descriptor,
// size or flag set for any of them (statmount, listmount, the lsm_* calls,
// mseal, the *xattrat calls, open_tree_attr, file_getattr, file_setattr,
// listns, fchroot: EFAULT, EBADF or EINVAL; rseq_slice_yield takes no
// arguments and at most yields the CPU). TestProbedSyscallsReviewed pins that
// list, so a regenerated table cannot add a number to the probe unreviewed.
//
// The calls run in a child process of a few instructions (like the ABI
// probe), so that a seccomp filter on this process that kills or traps
// unknown syscalls ends the child, not sysgate; then nothing is known and
// every rule stays as written. An ERRNO filter on this process answers for
// the kernel: what it returns is what a call returns here.

// probeFloor is the lowest syscall number the probe may call: statmount
// (457, Linux 6.8), the oldest syscall Debian 12's libseccomp 2.5.4 cannot
// name on x86_64 apart from the uretprobe/uprobe holes.
const probeFloor = 457

// KernelSyscalls is what the probe found out about the running kernel.
type KernelSyscalls struct {
	// Newest is the highest x86_64 number from probeFloor up that the kernel
	// does not answer with ENOSYS; probeFloor-1 when it answers ENOSYS to
	// all of them.
	Newest int `json:"newest"`
	// Known is false when the probe could not tell; Reason says why.
	Known  bool   `json:"known"`
	Reason string `json:"reason,omitempty"`
}

// Lacks reports whether the running kernel lacks the syscall name, as far
// as the probe can tell: its x86_64 number is at or above the probe's floor
// and above the newest syscall the kernel has.
func (k KernelSyscalls) Lacks(name string) bool {
	nr, ok := syscalls.Number(specs.ArchX86_64, name)
	return k.Known && ok && nr >= probeFloor && nr > k.Newest
}

// KernelLacks reports whether the running kernel lacks the syscall name. It
// runs the probe only for a name the probe covers (an x86_64 number at or
// above its floor), so a profile without such names never starts it.
func KernelLacks(name string) bool {
	nr, ok := syscalls.Number(specs.ArchX86_64, name)
	if !ok || nr < probeFloor {
		return false
	}
	return RunningKernelSyscalls().Lacks(name)
}

// RunningKernelSyscalls probes the running kernel, once per process, and
// only when first asked: a process that compiles no rule by number never
// runs the probe.
func RunningKernelSyscalls() KernelSyscalls {
	return runningKernelSyscalls()
}

var runningKernelSyscalls = sync.OnceValue(probeKernelSyscalls)

func probeKernelSyscalls() KernelSyscalls {
	if runtime.GOARCH != "amd64" {
		// The probe is x86_64 machine code; elsewhere the names newer than
		// libseccomp keep their rules by number, and a kernel without one
		// answers ENOSYS itself past the filter's verdict for allowed calls.
		return KernelSyscalls{Reason: "the newest-syscall probe is x86_64 code; this node is " + runtime.GOARCH}
	}
	high := syscalls.Highest(specs.ArchX86_64)
	if high < probeFloor {
		return KernelSyscalls{Newest: high, Known: true}
	}
	outcome, err := runABIProgram(newestSyscallProgram(high, probeFloor))
	if err != nil {
		return KernelSyscalls{Reason: "the syscall probe could not run: " + err.Error()}
	}
	code, ok := strings.CutPrefix(outcome, "exit:")
	n, convErr := strconv.Atoi(code)
	if !ok || convErr != nil || n < 0 || n > high-probeFloor+1 {
		if outcome == abiSignal(unix.SIGSYS) {
			return KernelSyscalls{Reason: "the syscall probe was stopped by a seccomp filter on this process"}
		}
		return KernelSyscalls{Reason: "the syscall probe ended with " + outcome}
	}
	return KernelSyscalls{Newest: probeFloor - 1 + n, Known: true}
}

// String is the one-line form `sysgate version` prints.
func (k KernelSyscalls) String() string {
	if !k.Known {
		return "unknown (" + k.Reason + ")"
	}
	if name, ok := syscalls.Name(specs.ArchX86_64, k.Newest); ok && k.Newest >= probeFloor {
		return fmt.Sprintf("newest %s (%d)", name, k.Newest)
	}
	name, _ := syscalls.Name(specs.ArchX86_64, probeFloor)
	return fmt.Sprintf("older than %s (%d)", name, probeFloor)
}

// newestSyscallProgram: for nr from high down to floor, syscall(nr, -1, -1,
// -1, -1, -1, -1); exit with nr-floor+1 at the first that does not return
// -ENOSYS, or 0 when all do.
func newestSyscallProgram(high, floor int) []byte {
	imm := func(v int) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
	var code []byte
	emit := func(parts ...[]byte) {
		for _, p := range parts {
			code = append(code, p...)
		}
	}
	emit([]byte{0x41, 0xbc}, imm(high)) // mov r12d, high
	loop := len(code)
	emit([]byte{
		0x44, 0x89, 0xe0, // mov eax, r12d
		0x48, 0xc7, 0xc7, 0xff, 0xff, 0xff, 0xff, // mov rdi, -1
		0x48, 0x89, 0xfe, // mov rsi, rdi
		0x48, 0x89, 0xfa, // mov rdx, rdi
		0x49, 0x89, 0xfa, // mov r10, rdi
		0x49, 0x89, 0xf8, // mov r8, rdi
		0x49, 0x89, 0xf9, // mov r9, rdi
		0x0f, 0x05, // syscall
		0x48, 0x83, 0xf8, 0xda, // cmp rax, -ENOSYS
		0x75, 0x00, // jne found (patched)
	})
	jneAt := len(code) - 1
	emit([]byte{0x41, 0xff, 0xcc}, // dec r12d
		[]byte{0x41, 0x81, 0xfc}, imm(floor)) // cmp r12d, floor
	emit([]byte{0x7d, byte(loop - (len(code) + 2))}) // jge loop
	emit([]byte{0x31, 0xff},                         // xor edi, edi
		[]byte{0xeb, 0x00}) // jmp exit (patched)
	jmpAt := len(code) - 1
	found := len(code)
	emit([]byte{0x44, 0x89, 0xe7}, // mov edi, r12d
		[]byte{0x81, 0xef}, imm(floor-1)) // sub edi, floor-1
	exit := len(code)
	emit([]byte{0xb8, 0x3c, 0x00, 0x00, 0x00, // mov eax, 60 (exit)
		0x0f, 0x05}) // syscall
	code[jneAt] = byte(found - (jneAt + 1))
	code[jmpAt] = byte(exit - (jmpAt + 1))
	return elf64Program(code)
}
