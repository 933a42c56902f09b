package syscalls

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const x32 = X32SyscallBit

// Numbers read off the kernel's syscall tables by hand.
func TestKnownNumbers(t *testing.T) {
	for _, c := range []struct {
		arch specs.Arch
		name string
		nr   int // -1: the ABI has no such syscall
	}{
		{specs.ArchX86_64, "read", 0},
		{specs.ArchX86_64, "ioctl", 16},
		{specs.ArchX86_64, "uselib", 134}, // a table row without an entry point is still a number
		{specs.ArchX86_64, "clone3", 435},
		{specs.ArchX86_64, "uretprobe", 335},
		{specs.ArchX86_64, "statmount", 457},
		{specs.ArchX86_64, "listmount", 458},
		{specs.ArchX86_64, "lsm_get_self_attr", 459},
		{specs.ArchX86_64, "mseal", 462},
		{specs.ArchX86_64, "setxattrat", 463},
		{specs.ArchX86_64, "getxattrat", 464},
		{specs.ArchX86_64, "removexattrat", 466},
		{specs.ArchX86_64, "socketcall", -1},
		{specs.ArchX86_64, "_llseek", -1},

		{specs.ArchX86, "read", 3},
		{specs.ArchX86, "socketcall", 102},
		{specs.ArchX86, "ipc", 117},
		{specs.ArchX86, "socket", 359},
		{specs.ArchX86, "_llseek", 140},
		{specs.ArchX86, "mseal", 462},
		{specs.ArchX86, "uretprobe", -1}, // x86_64 and x32 only
		{specs.ArchX86, "accept", -1},    // only through socketcall
		{specs.ArchX86, "arch_prctl", 384},

		{specs.ArchX32, "read", x32 + 0},
		{specs.ArchX32, "open", x32 + 2},
		{specs.ArchX32, "ioctl", x32 + 514}, // x32's own compat row, not 64's 16
		{specs.ArchX32, "rt_sigaction", x32 + 512},
		{specs.ArchX32, "execve", x32 + 520},
		{specs.ArchX32, "preadv2", x32 + 546},
		{specs.ArchX32, "pwritev2", x32 + 547},
		{specs.ArchX32, "uretprobe", x32 + 335},
		{specs.ArchX32, "map_shadow_stack", x32 + 453},
		{specs.ArchX32, "mseal", x32 + 462},
		{specs.ArchX32, "uselib", -1}, // a "64" row
		{specs.ArchX32, "set_thread_area", -1},

		{specs.ArchAARCH64, "read", 63},
		{specs.ArchAARCH64, "openat", 56},
		{specs.ArchAARCH64, "renameat", 38},
		{specs.ArchAARCH64, "getrlimit", 163},
		{specs.ArchAARCH64, "memfd_secret", 447},
		{specs.ArchAARCH64, "newfstatat", 79},
		{specs.ArchAARCH64, "fstat", 80},
		{specs.ArchAARCH64, "mmap", 222},
		{specs.ArchAARCH64, "mseal", 462},
		{specs.ArchAARCH64, "open", -1},
		{specs.ArchAARCH64, "stat", -1},
		{specs.ArchAARCH64, "fork", -1},
		{specs.ArchAARCH64, "renameat2", 276},
		{specs.ArchAARCH64, "fcntl64", -1}, // a "32" row
		{specs.ArchAARCH64, "clock_gettime64", -1},

		{specs.ArchARM, "read", 3},
		{specs.ArchARM, "open", 5},
		{specs.ArchARM, "arm_sync_file_range", 341},
		{specs.ArchARM, "sync_file_range2", 341},
		{specs.ArchARM, "arm_fadvise64_64", 270},
		{specs.ArchARM, "breakpoint", 0x0f0001},
		{specs.ArchARM, "cacheflush", 0x0f0002},
		{specs.ArchARM, "set_tls", 0x0f0005},
		{specs.ArchARM, "mseal", 462},
		{specs.ArchARM, "socketcall", -1}, // an "oabi" row
		{specs.ArchARM, "time", -1},       // likewise
	} {
		nr, ok := Number(c.arch, c.name)
		if c.nr < 0 {
			if ok {
				t.Errorf("Number(%s, %s) = %d, want none", c.arch, c.name, nr)
			}
			continue
		}
		if !ok || nr != c.nr {
			t.Errorf("Number(%s, %s) = %d, %v; want %d", c.arch, c.name, nr, ok, c.nr)
		}
		if !slices.Contains(Names(c.arch), c.name) {
			t.Errorf("Names(%s) lacks %s", c.arch, c.name)
		}
	}
}

func TestName(t *testing.T) {
	for _, c := range []struct {
		arch specs.Arch
		nr   int
		name string // "": none
	}{
		{specs.ArchX86_64, 0, "read"},
		{specs.ArchX86_64, 462, "mseal"},
		{specs.ArchX86_64, x32 + 0, ""},
		{specs.ArchX32, x32 + 0, "read"},
		{specs.ArchX32, x32 + 514, "ioctl"},
		{specs.ArchX32, x32 + 16, ""}, // ioctl's "64" row
		{specs.ArchX32, 0, ""},        // x32 numbers carry the bit
		{specs.ArchX86, 102, "socketcall"},
		{specs.ArchAARCH64, 56, "openat"},
		{specs.ArchARM, 341, "arm_sync_file_range"}, // the table's name, not the alias
		{specs.ArchARM, 0x0f0005, "set_tls"},
		{specs.ArchARM, -1, ""},
		{"SCMP_ARCH_MIPS", 0, ""},
	} {
		name, ok := Name(c.arch, c.nr)
		if name != c.name || ok != (c.name != "") {
			t.Errorf("Name(%s, %#x) = %q, %v; want %q", c.arch, c.nr, name, ok, c.name)
		}
	}
}

// The table's invariants, for every ABI: numbers and names unique and
// sorted, Name and Number inverse, Highest the top of the table proper.
func TestTablesConsistent(t *testing.T) {
	want := []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32, specs.ArchAARCH64, specs.ArchARM}
	if got := Arches(); !slices.Equal(got, want) {
		t.Fatalf("Arches() = %v, want %v", got, want)
	}
	for _, arch := range want {
		tb := lookup(arch)
		if !slices.IsSortedFunc(tb.byNumber, func(a, b entry) int { return a.nr - b.nr }) {
			t.Errorf("%s: byNumber is not sorted", arch)
		}
		for i := 1; i < len(tb.byNumber); i++ {
			if tb.byNumber[i].nr == tb.byNumber[i-1].nr {
				t.Errorf("%s: %d twice", arch, tb.byNumber[i].nr)
			}
		}
		names := Names(arch)
		if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
			t.Errorf("%s: Names is not sorted and unique", arch)
		}
		for _, e := range tb.byNumber {
			if nr, ok := Number(arch, e.name); !ok || nr != e.nr {
				t.Errorf("%s: Number(%s) = %d, %v; want %d", arch, e.name, nr, ok, e.nr)
			}
		}
		aliases := 0
		for _, name := range names {
			nr, _ := Number(arch, name)
			canonical, ok := Name(arch, nr)
			if !ok {
				t.Errorf("%s: %s is %d, which has no name", arch, name, nr)
			}
			if canonical != name {
				aliases++
			}
			if arch == specs.ArchX32 && nr&X32SyscallBit == 0 {
				t.Errorf("x32 %s is %#x, without X32SyscallBit", name, nr)
			}
			if !Known(name) {
				t.Errorf("Known(%s) is false", name)
			}
		}
		if want := len(names) - len(tb.byNumber); aliases != want {
			t.Errorf("%s: %d aliases, want %d", arch, aliases, want)
		}
		highest := -1
		for _, e := range tb.byNumber {
			if e.nr < 0x0f0000 || arch == specs.ArchX32 {
				highest = max(highest, e.nr)
			}
		}
		if Highest(arch) != highest || highest < 0 {
			t.Errorf("Highest(%s) = %#x, want %#x", arch, Highest(arch), highest)
		}
		if _, ok := Name(arch, Highest(arch)+1); ok {
			t.Errorf("%s: a syscall above Highest", arch)
		}
		t.Logf("%s: %d syscalls, %d names, highest %#x", arch, len(tb.byNumber), len(names), Highest(arch))
	}
}

func TestUnknown(t *testing.T) {
	if _, ok := Number("SCMP_ARCH_MIPS", "read"); ok {
		t.Error("Number knows MIPS")
	}
	if Names("SCMP_ARCH_MIPS") != nil || Highest("SCMP_ARCH_MIPS") != -1 {
		t.Error("Names or Highest knows MIPS")
	}
	if _, ok := Number(specs.ArchX86_64, "no_such_syscall"); ok {
		t.Error("Number knows no_such_syscall")
	}
	for name, want := range map[string]bool{"read": true, "socketcall": true, "set_tls": true, "sync_file_range2": true, "mseal": true, "no_such_syscall": false, "": false} {
		if Known(name) != want {
			t.Errorf("Known(%q) = %v", name, !want)
		}
	}
	names := Names(specs.ArchX86_64)
	names[0] = "changed"
	if Names(specs.ArchX86_64)[0] == "changed" {
		t.Error("Names hands out the table")
	}
}

// table.go and KernelVersion come from the same pin in gensyscalls; a hand
// edit of either breaks this.
func TestGeneratedHeaderNamesKernelVersion(t *testing.T) {
	raw, err := os.ReadFile("table.go")
	if err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(string(raw), "\n")
	if !strings.HasPrefix(header, "// Code generated by filter/syscalls/internal/gensyscalls ") || !strings.HasSuffix(header, " DO NOT EDIT.") {
		t.Fatalf("table.go's first line is not gensyscalls' header: %q", header)
	}
	if !strings.Contains(header, " of Linux "+KernelVersion+" in ") || !strings.Contains(header, " linux-libc-dev "+KernelVersion+".") {
		t.Errorf("table.go's header does not name Linux %s: %q", KernelVersion, header)
	}
}

// Every layer of sysgate may use this package: no cgo, and nothing but the
// standard library and the runtime-spec types.
func TestPureGo(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.CgoFiles}} {{.Imports}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	cgo, imports, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	if cgo != "[]" {
		t.Errorf("cgo files: %s", cgo)
	}
	for _, imp := range strings.Fields(strings.Trim(imports, "[]")) {
		if imp == "C" || strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") && imp != "github.com/opencontainers/runtime-spec/specs-go" {
			t.Errorf("imports %s", imp)
		}
	}
	deps, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(deps)) {
		if dep != "github.com/opencontainers/runtime-spec/specs-go" && dep != "github.com/sysgate/sysgate/filter/syscalls" {
			t.Errorf("depends on %s", dep)
		}
	}
	if cgoDeps, err := exec.Command("go", "list", "-deps", "-f", "{{if .CgoFiles}}{{.ImportPath}}{{end}}", ".").Output(); err != nil || strings.TrimSpace(string(cgoDeps)) != "" {
		t.Errorf("dependencies with cgo: %q %v", cgoDeps, err)
	}
}
