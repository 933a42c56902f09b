package main

import (
	"fmt"
	"io"
	"os"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/bpf"
)

func runCompile(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("profile compile", "[--arch LIST] [-o OUT] [--format raw|disasm] [--optimize tree|linear] [--joint] FILE", stdout)
	archList := fs.String("arch", "", "comma-separated architectures of one machine (x86_64,x86,x32 or aarch64,arm) instead of the profile's; that machine's native one is always included")
	out := fs.String("o", "", "write to this file instead of standard output")
	format := fs.String("format", "raw", "raw: the sock_filter array seccomp(2) loads; disasm: a readable listing")
	optimize := fs.String("optimize", "tree", "libseccomp layout: tree (binary tree) or linear")
	joint := fs.Bool("joint", false, "have libseccomp compile all architectures in one filter (slower; same verdicts)")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return fmt.Errorf("%w: name exactly one profile file", errUsage)
	}
	if *format != "raw" && *format != "disasm" {
		return fmt.Errorf("%w: --format must be raw or disasm, not %q", errUsage, *format)
	}
	var opts filter.Options
	if opts.Arches, err = parseArches(*archList); err != nil {
		return err
	}
	if opts.Machine, err = machineOf(opts.Arches); err != nil {
		return err
	}
	if opts.Optimize, err = parseOptimize(*optimize); err != nil {
		return err
	}
	opts.Joint = *joint
	_, prog, err := compileFile(files[0], opts, stderr)
	if err != nil {
		return err
	}

	var data []byte
	if *format == "raw" {
		data = prog.Bytes()
	} else {
		data = []byte(fmt.Sprintf("# %s: arches %v, flags %v, ENOSYS stub %d instructions\n%s",
			files[0], prog.Arches, prog.FlagNames(), prog.StubLength, bpf.Disassemble(prog.Instructions)))
	}
	if *out == "" {
		_, err = stdout.Write(data)
		return err
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return fmt.Errorf("writing the program: %w", err)
	}
	return nil
}
