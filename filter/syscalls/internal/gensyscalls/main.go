package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The pinned source (see doc.go).
const (
	kernelVersion = "7.3"
	debPackage    = "linux-libc-dev"
	debVersion    = "7.3.4-1~bpo13+1"
	debSuite      = "trixie-backports"
	debSHA256     = "b3a4538fca67081c8606a93f37521d0eb74ac75996a02f3321a6b27f978e10a8"
)

// uapi is where linux-libc-dev keeps each architecture's UAPI headers under
// the kernel's own arch names.
const uapi = "./usr/lib/linux/uapi/"

// abi says how to read one ABI's table out of the headers.
type abi struct {
	arch   string // the OCI (libseccomp) name
	ident  string // its specs.Arch constant is specs.Arch<ident>
	header string // generated header, under uapi
	// define matches one syscall line of header: name, number.
	define *regexp.Regexp
	// base is added to every number (X32SyscallBit on x32).
	base int
	what string // for the comment in table.go
}

var (
	plainNR = regexp.MustCompile(`^#define __NR_([a-z0-9_]+) ([0-9]+)$`)
	x32NR   = regexp.MustCompile(`^#define __NR_([a-z0-9_]+) \(__X32_SYSCALL_BIT \+ ([0-9]+)\)$`)
	armNR   = regexp.MustCompile(`^#define __NR_([a-z0-9_]+) \(__NR_SYSCALL_BASE \+ ([0-9]+)\)$`)
	guard   = regexp.MustCompile(`^(#ifndef|#define) _ASM_UNISTD_[A-Z0-9_]+_H$|^#endif /\* _ASM_UNISTD_[A-Z0-9_]+_H \*/$`)
)

func main() {
	out := flag.String("o", "table.go", "the file to write")
	deb := flag.String("deb", "", "a local copy of "+debPackage+"_"+debVersion+"_all.deb to use instead of downloading it")
	mirror := flag.String("mirror", "http://deb.debian.org/debian", "Debian archive to download from")
	flag.Parse()
	if err := run(*out, *deb, *mirror); err != nil {
		fmt.Fprintf(os.Stderr, "gensyscalls: %v\n", err)
		os.Exit(1)
	}
}

func run(out, deb, mirror string) error {
	if deb == "" {
		tmp, err := os.MkdirTemp("", "gensyscalls-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		if deb, err = download(tmp, mirror); err != nil {
			return err
		}
	}
	raw, err := os.ReadFile(deb)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(raw)
	if got := hex.EncodeToString(sum[:]); got != debSHA256 {
		return fmt.Errorf("%s has sha256 %s, not the pinned %s", deb, got, debSHA256)
	}
	files, err := extract(deb)
	if err != nil {
		return err
	}
	src, err := generate(files)
	if err != nil {
		return err
	}
	return os.WriteFile(out, src, 0o644)
}

// download fetches the pinned package into dir with apt-get and a private
// configuration (as integration/vm does for kernels): its own sources, lists
// and cache under dir, so the machine's apt state is neither read nor
// written.
func download(dir, mirror string) (string, error) {
	aptDir := filepath.Join(dir, "apt")
	for _, d := range []string{"sources.list.d", "lists/partial", "cache/archives/partial"} {
		if err := os.MkdirAll(filepath.Join(aptDir, d), 0o755); err != nil {
			return "", err
		}
	}
	sources := fmt.Sprintf("Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nTargets: Packages\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n", mirror, debSuite)
	if err := os.WriteFile(filepath.Join(aptDir, "sources.list.d", "gensyscalls.sources"), []byte(sources), 0o644); err != nil {
		return "", err
	}
	opts := []string{
		"-o", "Dir::Etc::SourceList=/dev/null",
		"-o", "Dir::Etc::SourceParts=" + filepath.Join(aptDir, "sources.list.d"),
		"-o", "Dir::State::Lists=" + filepath.Join(aptDir, "lists"),
		"-o", "Dir::Cache=" + filepath.Join(aptDir, "cache"),
		"-o", "Dir::State::status=/dev/null",
		"-o", "Acquire::Languages=none",
		"-o", "APT::Sandbox::User=root",
		"-q",
	}
	for _, args := range [][]string{{"update"}, {"download", debPackage + "=" + debVersion}} {
		cmd := exec.Command("apt-get", append(opts, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("apt-get %s: %v\n%s", args[0], err, out)
		}
	}
	debs, err := filepath.Glob(filepath.Join(dir, debPackage+"_*.deb"))
	if err != nil || len(debs) != 1 {
		return "", fmt.Errorf("apt-get download left %v in %s", debs, dir)
	}
	return debs[0], nil
}

// extract reads the UAPI headers this generator needs out of the package.
func extract(deb string) (map[string]string, error) {
	cmd := exec.Command("dpkg-deb", "--fsys-tarfile", deb)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	files := map[string]string{}
	tr := tar.NewReader(stdout)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			cmd.Wait()
			return nil, fmt.Errorf("reading %s: %v", deb, err)
		}
		if h.Typeflag == tar.TypeReg && (h.Name == "./usr/include/linux/version.h" ||
			strings.HasPrefix(h.Name, uapi) && strings.Contains(h.Name, "/asm/unistd")) {
			b, err := io.ReadAll(tr)
			if err != nil {
				cmd.Wait()
				return nil, err
			}
			files[strings.TrimPrefix(h.Name, uapi)] = string(b)
		}
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("dpkg-deb --fsys-tarfile %s: %v: %s", deb, err, stderr.String())
	}
	return files, nil
}

type entry struct {
	nr   int
	name string
}

// parsed is one ABI's syscalls, ready to write.
type parsed struct {
	abi      abi
	byNumber []entry // the syscall table, ascending
	extra    []entry // outside the table: arm's private calls, ascending
	aliases  []entry // second names for a number
}

func generate(files map[string]string) ([]byte, error) {
	if err := checkVersion(files["./usr/include/linux/version.h"]); err != nil {
		return nil, err
	}
	x32Bit, err := x32SyscallBit(files["x86/asm/unistd.h"])
	if err != nil {
		return nil, err
	}
	if err := checkArm64(files["arm64/asm/unistd.h"]); err != nil {
		return nil, err
	}
	abis := []abi{
		{"SCMP_ARCH_X86_64", "X86_64", "x86/asm/unistd_64.h", plainNR, 0, `the "common" and "64" rows of arch/x86/entry/syscalls/syscall_64.tbl`},
		{"SCMP_ARCH_X86", "X86", "x86/asm/unistd_32.h", plainNR, 0, `i386: the rows of arch/x86/entry/syscalls/syscall_32.tbl`},
		{"SCMP_ARCH_X32", "X32", "x86/asm/unistd_x32.h", x32NR, x32Bit, `the "common" and "x32" rows of arch/x86/entry/syscalls/syscall_64.tbl, with X32SyscallBit`},
		{"SCMP_ARCH_AARCH64", "AARCH64", "arm64/asm/unistd_64.h", plainNR, 0, `arm64: the "common", "64", "renameat", "rlimit" and "memfd_secret" rows of scripts/syscall.tbl`},
		{"SCMP_ARCH_ARM", "ARM", "arm/asm/unistd-eabi.h", armNR, 0, `arm EABI: the "common" and "eabi" rows of arch/arm/tools/syscall.tbl, and asm/unistd.h's private calls and alias`},
	}
	var tables []parsed
	for _, a := range abis {
		text, ok := files[a.header]
		if !ok {
			return nil, fmt.Errorf("the package has no %s", a.header)
		}
		p := parsed{abi: a}
		if p.byNumber, err = parseHeader(a, text); err != nil {
			return nil, err
		}
		if len(p.byNumber) < 300 {
			return nil, fmt.Errorf("%s: only %d syscalls", a.header, len(p.byNumber))
		}
		if a.arch == "SCMP_ARCH_ARM" {
			if p.extra, p.aliases, err = parseArmUnistd(files["arm/asm/unistd.h"], p.byNumber); err != nil {
				return nil, err
			}
		}
		tables = append(tables, p)
	}
	return write(tables, x32Bit)
}

func checkVersion(text string) error {
	var major, minor string
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, "#define LINUX_VERSION_MAJOR "); ok {
			major = v
		}
		if v, ok := strings.CutPrefix(line, "#define LINUX_VERSION_PATCHLEVEL "); ok {
			minor = v
		}
	}
	if major+"."+minor != kernelVersion {
		return fmt.Errorf("linux/version.h says %s.%s, the pin says %s", major, minor, kernelVersion)
	}
	return nil
}

func x32SyscallBit(text string) (int, error) {
	m := regexp.MustCompile(`(?m)^#define __X32_SYSCALL_BIT\s+(0x[0-9a-fA-F]+)$`).FindStringSubmatch(text)
	if m == nil {
		return 0, errors.New("x86/asm/unistd.h defines no __X32_SYSCALL_BIT")
	}
	v, err := strconv.ParseInt(m[1], 0, 64)
	return int(v), err
}

// checkArm64 makes sure arm64's numbers are all in unistd_64.h: so it is
// since 6.11, when arm64 left asm-generic/unistd.h for scripts/syscall.tbl.
func checkArm64(text string) error {
	if strings.TrimSpace(stripComments(text)) != "#include <asm/unistd_64.h>" {
		return fmt.Errorf("arm64/asm/unistd.h is not just #include <asm/unistd_64.h> (a kernel before 6.11?):\n%s", text)
	}
	return nil
}

func stripComments(s string) string {
	return regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(s, "")
}

// parseHeader reads a header that scripts/syscallhdr.sh wrote: an include
// guard and one #define per syscall. Any other line fails, so that a change
// of format cannot drop syscalls unnoticed.
func parseHeader(a abi, text string) ([]entry, error) {
	var out []entry
	names := map[string]bool{}
	nrs := map[int]bool{}
	for i, line := range strings.Split(text, "\n") {
		if line == "" || guard.MatchString(line) {
			continue
		}
		m := a.define.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("%s:%d: not a syscall: %q", a.header, i+1, line)
		}
		nr, err := strconv.Atoi(m[2])
		if err != nil {
			return nil, err
		}
		nr += a.base
		if names[m[1]] || nrs[nr] {
			return nil, fmt.Errorf("%s:%d: %s or %d twice", a.header, i+1, m[1], nr)
		}
		names[m[1]], nrs[nr] = true, true
		out = append(out, entry{nr, m[1]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].nr < out[j].nr })
	return out, nil
}

// parseArmUnistd reads arm's asm/unistd.h for EABI: the private calls
// (__ARM_NR_*, above the table at __ARM_NR_BASE = 0x0f0000, which seccomp
// sees as they are) and the aliases (__NR_sync_file_range2).
func parseArmUnistd(text string, table []entry) (extra, aliases []entry, err error) {
	if !strings.Contains(text, "#if defined(__thumb__) || defined(__ARM_EABI__)\n#define __NR_SYSCALL_BASE\t0\n") {
		return nil, nil, errors.New("arm/asm/unistd.h: no EABI branch with __NR_SYSCALL_BASE 0")
	}
	armBase := regexp.MustCompile(`^#define __ARM_NR_BASE\s+\(__NR_SYSCALL_BASE\s*\+\s*(0x[0-9a-f]+)\)$`)
	private := regexp.MustCompile(`^#define __ARM_NR_([a-z0-9_]+)\s+\(__ARM_NR_BASE\s*\+\s*([0-9]+)\)$`)
	alias := regexp.MustCompile(`^#define __NR_([a-z0-9_]+)\s+__NR_([a-z0-9_]+)$`)
	known := map[string]int{}
	for _, e := range table {
		known[e.name] = e.nr
	}
	base := -1
	for i, line := range strings.Split(text, "\n") {
		if m := armBase.FindStringSubmatch(line); m != nil {
			v, err := strconv.ParseInt(m[1], 0, 64)
			if err != nil {
				return nil, nil, err
			}
			base = int(v)
			continue
		}
		if m := private.FindStringSubmatch(line); m != nil {
			if base < 0 {
				return nil, nil, fmt.Errorf("arm/asm/unistd.h:%d: __ARM_NR_%s before __ARM_NR_BASE", i+1, m[1])
			}
			n, _ := strconv.Atoi(m[2])
			if _, dup := known[m[1]]; dup {
				return nil, nil, fmt.Errorf("arm/asm/unistd.h:%d: %s is in the table too", i+1, m[1])
			}
			known[m[1]] = base + n
			extra = append(extra, entry{base + n, m[1]})
			continue
		}
		if m := alias.FindStringSubmatch(line); m != nil {
			nr, ok := known[m[2]]
			if !ok {
				return nil, nil, fmt.Errorf("arm/asm/unistd.h:%d: %s aliases unknown %s", i+1, m[1], m[2])
			}
			if _, dup := known[m[1]]; dup {
				return nil, nil, fmt.Errorf("arm/asm/unistd.h:%d: alias %s is a syscall too", i+1, m[1])
			}
			known[m[1]] = nr
			aliases = append(aliases, entry{nr, m[1]})
			continue
		}
		switch {
		case strings.HasPrefix(line, "#define __ARM_NR_"), strings.HasPrefix(line, "#define __NR_") &&
			!strings.HasPrefix(line, "#define __NR_OABI_SYSCALL_BASE") &&
			!strings.HasPrefix(line, "#define __NR_SYSCALL_MASK") &&
			!strings.HasPrefix(line, "#define __NR_SYSCALL_BASE"):
			return nil, nil, fmt.Errorf("arm/asm/unistd.h:%d: not understood: %q", i+1, line)
		}
	}
	if len(extra) == 0 {
		return nil, nil, errors.New("arm/asm/unistd.h: no __ARM_NR_ private calls")
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i].nr < extra[j].nr })
	return extra, aliases, nil
}

func write(tables []parsed, x32Bit int) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by filter/syscalls/internal/gensyscalls from the syscall headers of Linux %s in Debian's %s %s (sha256 %s); DO NOT EDIT.\n\n",
		kernelVersion, debPackage, debVersion, debSHA256)
	b.WriteString("package syscalls\n\nimport specs \"github.com/opencontainers/runtime-spec/specs-go\"\n\n")
	fmt.Fprintf(&b, "// KernelVersion is the Linux release whose syscall tables this package holds.\nconst KernelVersion = %q\n\n", kernelVersion)
	fmt.Fprintf(&b, "// X32SyscallBit is set in the number of every x32 syscall (__X32_SYSCALL_BIT).\nconst X32SyscallBit = %#x\n\n", x32Bit)
	b.WriteString("var tables = []archTable{\n")
	for _, t := range tables {
		fmt.Fprintf(&b, "{specs.Arch%s, &table%s},\n", t.abi.ident, t.abi.ident)
	}
	b.WriteString("}\n")
	for _, t := range tables {
		all := append(append(append([]entry(nil), t.byNumber...), t.extra...), t.aliases...)
		byName := append([]entry(nil), all...)
		sort.Slice(byName, func(i, j int) bool { return byName[i].name < byName[j].name })
		byNumber := append(append([]entry(nil), t.byNumber...), t.extra...)
		fmt.Fprintf(&b, "\n// %s: %s (%s).\nvar table%s = table{\n", t.abi.arch, t.abi.what, t.abi.header, t.abi.ident)
		fmt.Fprintf(&b, "highest: %s,\n", number(t.byNumber[len(t.byNumber)-1].nr, t.abi.base))
		b.WriteString("byNumber: []entry{\n")
		for _, e := range byNumber {
			fmt.Fprintf(&b, "{%s, %q},\n", number(e.nr, t.abi.base), e.name)
		}
		b.WriteString("},\nbyName: []entry{\n")
		for _, e := range byName {
			fmt.Fprintf(&b, "{%s, %q},\n", number(e.nr, t.abi.base), e.name)
		}
		b.WriteString("},\n}\n")
	}
	return format.Source(b.Bytes())
}

// number writes nr as the header does: x32's as X32SyscallBit + n, so that
// the table reads like syscall_64.tbl; arm's private calls in hex.
func number(nr, base int) string {
	switch {
	case base != 0:
		return fmt.Sprintf("X32SyscallBit + %d", nr-base)
	case nr >= 0x0f0000:
		return fmt.Sprintf("%#x", nr)
	}
	return strconv.Itoa(nr)
}
