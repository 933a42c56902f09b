package main

import (
	"reflect"
	"strings"
	"testing"
)

// The parsers are strict: a line they do not understand fails the run
// instead of dropping a syscall.

func TestParseHeader(t *testing.T) {
	x32 := abi{header: "x86/asm/unistd_x32.h", define: x32NR, base: 0x40000000}
	text := "#ifndef _ASM_UNISTD_X32_H\n#define _ASM_UNISTD_X32_H\n\n" +
		"#define __NR_read (__X32_SYSCALL_BIT + 0)\n#define __NR_ioctl (__X32_SYSCALL_BIT + 514)\n" +
		"#define __NR_write (__X32_SYSCALL_BIT + 1)\n\n#endif /* _ASM_UNISTD_X32_H */\n"
	got, err := parseHeader(x32, text)
	want := []entry{{0x40000000, "read"}, {0x40000001, "write"}, {0x40000202, "ioctl"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseHeader = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{
		"#define __NR_read 0\n", // plain in an x32 header
		"#define __NR_read (__X32_SYSCALL_BIT + 0)\n#define __NR_syscalls 3\n", // not a syscall
		"#define __NR_read (__X32_SYSCALL_BIT + 0)\n#define __NR_read (__X32_SYSCALL_BIT + 1)\n",
		"#define __NR_read (__X32_SYSCALL_BIT + 0)\n#define __NR_write (__X32_SYSCALL_BIT + 0)\n",
		"#include <asm/unistd_64.h>\n",
	} {
		if got, err := parseHeader(x32, bad); err == nil {
			t.Errorf("parseHeader(%q) = %v, no error", bad, got)
		}
	}
}

const armUnistd = `#define __NR_OABI_SYSCALL_BASE	0x900000
#define __NR_SYSCALL_MASK	0x0fffff

#if defined(__thumb__) || defined(__ARM_EABI__)
#define __NR_SYSCALL_BASE	0
#include <asm/unistd-eabi.h>
#else
#define __NR_SYSCALL_BASE	__NR_OABI_SYSCALL_BASE
#include <asm/unistd-oabi.h>
#endif

#define __NR_sync_file_range2		__NR_arm_sync_file_range

#define __ARM_NR_BASE			(__NR_SYSCALL_BASE+0x0f0000)
#define __ARM_NR_breakpoint		(__ARM_NR_BASE+1)
#define __ARM_NR_set_tls		(__ARM_NR_BASE+5)
`

func TestParseArmUnistd(t *testing.T) {
	table := []entry{{3, "read"}, {341, "arm_sync_file_range"}}
	extra, aliases, err := parseArmUnistd(armUnistd, table)
	if err != nil {
		t.Fatal(err)
	}
	if want := []entry{{0x0f0001, "breakpoint"}, {0x0f0005, "set_tls"}}; !reflect.DeepEqual(extra, want) {
		t.Errorf("private calls %v, want %v", extra, want)
	}
	if want := []entry{{341, "sync_file_range2"}}; !reflect.DeepEqual(aliases, want) {
		t.Errorf("aliases %v, want %v", aliases, want)
	}
	for _, bad := range []string{
		armUnistd + "#define __ARM_NR_get_tls 0x0f0006\n",
		armUnistd + "#define __NR_fadvise64 __NR_arm_fadvise64_64\n", // alias of a syscall the table lacks
		armUnistd + "#define __NR_read __NR_arm_sync_file_range\n",   // alias of a name the table has
		strings.Replace(armUnistd, "#define __NR_SYSCALL_BASE\t0\n", "#define __NR_SYSCALL_BASE\t0x100\n", 1),
	} {
		if _, _, err := parseArmUnistd(bad, table); err == nil {
			t.Errorf("no error for\n%s", bad)
		}
	}
}

func TestChecks(t *testing.T) {
	if err := checkArm64("/* SPDX */\n#include <asm/unistd_64.h>\n"); err != nil {
		t.Error(err)
	}
	if err := checkArm64("#define __ARCH_WANT_RENAMEAT\n#include <asm-generic/unistd.h>\n"); err == nil {
		t.Error("checkArm64 takes the asm-generic header of kernels before 6.11")
	}
	if err := checkVersion("#define LINUX_VERSION_MAJOR " + strings.Replace(kernelVersion, ".", "\n#define LINUX_VERSION_PATCHLEVEL ", 1) + "\n"); err != nil {
		t.Error(err)
	}
	if err := checkVersion("#define LINUX_VERSION_MAJOR 6\n#define LINUX_VERSION_PATCHLEVEL 1\n"); err == nil {
		t.Error("checkVersion takes 6.1")
	}
	if bit, err := x32SyscallBit("#define __X32_SYSCALL_BIT\t0x40000000\n"); bit != 0x40000000 || err != nil {
		t.Errorf("x32SyscallBit = %#x, %v", bit, err)
	}
}

// number writes what table.go compiles to the same value.
func TestNumber(t *testing.T) {
	for _, c := range []struct {
		nr, base int
		want     string
	}{{0, 0, "0"}, {462, 0, "462"}, {0x40000202, 0x40000000, "X32SyscallBit + 514"}, {0x0f0005, 0, "0xf0005"}} {
		if got := number(c.nr, c.base); got != c.want {
			t.Errorf("number(%#x, %#x) = %q, want %q", c.nr, c.base, got, c.want)
		}
	}
}
