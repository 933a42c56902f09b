package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter"
)

func runExec(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("exec", "--profile FILE [--no-new-privs=false] [--arch LIST] [--] CMD [ARGS...]", stdout)
	profilePath := fs.String("profile", "", "the seccomp profile to run CMD under (required)")
	noNewPrivs := fs.Bool("no-new-privs", true, "set no_new_privs before loading (without it the kernel requires CAP_SYS_ADMIN)")
	archList := fs.String("arch", "", "comma-separated architectures instead of the profile's")
	warnings := fs.Bool("warnings", true, "print the profile's validation warnings (sysgate record turns them off for its LOG profile)")
	argv, err := parseLeadingFlags(fs, args)
	if err != nil {
		return err
	}
	if *profilePath == "" {
		return fmt.Errorf("%w: --profile is required", errUsage)
	}
	if len(argv) == 0 {
		return fmt.Errorf("%w: name the command to run", errUsage)
	}
	var opts filter.Options
	if opts.Arches, err = parseArches(*archList); err != nil {
		return err
	}
	if opts.Machine, err = machineOf(opts.Arches); err != nil {
		return err
	}
	warnTo := stderr
	if !*warnings {
		warnTo = io.Discard
	}
	_, prog, err := compileFile(*profilePath, opts, warnTo)
	if err != nil {
		return fmt.Errorf("%w; nothing was run", err)
	}
	// Everything that needs a syscall the profile might deny happens before
	// the filter is loaded; afterwards only execve remains.
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return fmt.Errorf("%s: %w", argv[0], err)
	}
	listener, err := filter.Load(prog, filter.LoadOptions{NoNewPrivs: *noNewPrivs})
	if err != nil {
		return fmt.Errorf("%s: %w; nothing was run", *profilePath, err)
	}
	if listener >= 0 {
		state := specs.State{Version: specs.Version, ID: "sysgate-exec", Status: specs.StateCreated, Pid: os.Getpid()}
		if err := filter.SendListener(prog.ListenerPath, prog.ListenerMetadata, state, listener); err != nil {
			return fmt.Errorf("%w; nothing was run", err)
		}
		syscall.Close(listener)
	}
	err = syscall.Exec(path, argv, os.Environ())
	return fmt.Errorf("executing %s under %s: %w (does the profile allow execve?)", path, *profilePath, err)
}
