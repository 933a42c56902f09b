package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/observe"
	"github.com/sysgate/sysgate/shim"
	"github.com/sysgate/sysgate/shim/record"
	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/profile"
)

// runRecord runs a command under the record-mode form of a profile
// (RuntimeDefault unless --profile names one) through `sysgate exec`,
// counts in the kernel every syscall it and its children make under that
// filter, and writes the allowlist profile of what it saw.
func runRecord(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("record", "-o FILE [--profile FILE] [--format json|spo] [--name NAME] [--] CMD [ARGS...]", stdout)
	out := fs.String("o", "", "the profile to write (required); a recording that lost calls is written to NAME.incomplete.json instead")
	base := fs.String("profile", "", "the profile the command runs under while recorded, its denials turned into LOG (default: RuntimeDefault)")
	format := fs.String("format", "json", "json (OCI, for Localhost) or spo (the Security Profiles Operator's SeccompProfile YAML)")
	name := fs.String("name", "", "the SeccompProfile's name with --format spo (default: the output file's name)")
	argv, err := parseLeadingFlags(fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: -o is required", errUsage)
	}
	if len(argv) == 0 {
		return fmt.Errorf("%w: name the command to record", errUsage)
	}
	if *format != "json" && *format != "spo" {
		return fmt.Errorf("%w: --format must be json or spo, not %q", errUsage, *format)
	}
	baseProfile := profile.RuntimeDefault(profile.DefaultCapabilities)
	if *base != "" {
		// Validated as it is, before its denials become LOG: a profile
		// that would not run must not be recorded under.
		if baseProfile, _, err = compileFile(*base, filter.Options{}, stderr); err != nil {
			return fmt.Errorf("%w; nothing was run", err)
		}
	}
	output, err := record.Open(*out)
	if err != nil {
		return err
	}
	defer output.Close()

	modeFile, err := writeTemp(profile.RecordMode(baseProfile))
	if err != nil {
		return err
	}
	defer os.Remove(modeFile)
	self, err := os.Executable()
	if err != nil {
		return err
	}

	// The recording is rooted at this process, whose filters are the base:
	// the child execs `sysgate exec`, which loads the record-mode filter,
	// and only calls under it are counted. main holds its OS thread, so the
	// thread that forks the child is one Start already follows.
	meta := record.Metadata{Recorder: "sysgate " + version, Runtime: "sysgate exec", Kernel: kernelRelease(), Command: argv, Started: time.Now().UTC(), Source: "ebpf"}
	rec, err := observe.Start(os.Getpid())
	if err != nil {
		return fmt.Errorf("cannot record with eBPF: %w; nothing was run", err)
	}
	defer rec.Close()
	cmd := exec.Command(self, append([]string{"exec", "--profile", modeFile, "--warnings=false", "--"}, argv...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	runErr := cmd.Run()
	meta.Stopped = time.Now().UTC()
	obs, err := rec.Snapshot()
	if err != nil {
		return fmt.Errorf("reading the recording: %w; no profile was written", err)
	}
	rec.Close()
	if obs.Total() == 0 {
		return fmt.Errorf("the command made no syscall under its filter (%v); no profile was written", runErr)
	}
	meta.Lost = obs.Lost
	written, meta, err := writeRecording(output, observedCalls(obs), meta, *format, *name)
	if err != nil {
		return err
	}
	reportRecording(stderr, written, meta, obs.Lost)
	var exit *exec.ExitError
	if errors.As(runErr, &exit) {
		return fmt.Errorf("%s: %w (the profile records what it did)", argv[0], runErr)
	} else if runErr != nil {
		return runErr
	}
	if obs.Lost > 0 {
		return exitError(1)
	}
	return nil
}

// writeRecording builds and writes the profile; a recording that lost
// calls goes under the incomplete name.
func writeRecording(output *record.Output, calls record.Calls, meta record.Metadata, format, name string) (string, record.Metadata, error) {
	p, meta, err := record.Build(calls, meta)
	if err != nil {
		return "", meta, err
	}
	var data []byte
	if format == "spo" {
		if name == "" {
			name = strings.TrimSuffix(filepath.Base(output.Path), filepath.Ext(output.Path))
		}
		data, err = record.MarshalSPO(p, meta, name, "")
	} else {
		data, err = record.Marshal(p, meta)
	}
	if err != nil {
		return "", meta, err
	}
	written, err := output.Write(data, meta.Lost > 0)
	return written, meta, err
}

func reportRecording(stderr io.Writer, written string, meta record.Metadata, lost uint64) {
	n := 0
	for _, names := range meta.PerABI {
		n += len(names)
	}
	if lost > 0 {
		fmt.Fprintf(stderr, "WARNING: the recording LOST %d calls: the profile may miss syscalls the workload makes.\nWARNING: it was written as INCOMPLETE to %s, not to the finished name; record again.\n", lost, written)
		return
	}
	fmt.Fprintf(stderr, "sysgate record: %d syscalls (%d calls counted, none lost) written to %s\n", n, meta.Records, written)
	for _, u := range meta.Unnamed {
		fmt.Fprintf(stderr, "note: %s has no name in sysgate's table; the profile does not allow it\n", u)
	}
}

func observedCalls(obs *observe.Observation) record.Calls {
	arches := map[observe.ABI]specs.Arch{observe.X86_64: specs.ArchX86_64, observe.X86: specs.ArchX86, observe.X32: specs.ArchX32}
	calls := record.Calls{}
	for abi, arch := range arches {
		if len(obs.Calls[abi]) > 0 {
			calls[arch] = obs.Calls[abi]
		}
	}
	return calls
}

func writeTemp(p *specs.LinuxSeccomp) (string, error) {
	f, err := os.CreateTemp("", "sysgate-record-mode-*.json")
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := writeJSON(f, p); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

func kernelRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// runRecordStop ends a node recording before its container does: the
// helper writes the profile of what the container did so far.
func runRecordStop(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("record stop", "[--config FILE] [--list] [ID]", stdout)
	config := fs.String("config", spec.PolicyPath(), "the node policy (its record_socket is asked)")
	list := fs.Bool("list", false, "list the recordings running instead")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *list != (len(rest) == 0) || len(rest) > 1 {
		return fmt.Errorf("%w: give one container ID, or --list", errUsage)
	}
	policy, err := spec.LoadPolicy(*config)
	if err != nil {
		return err
	}
	if *list {
		reply, err := shim.AskRecorder(policy.RecordSocket, shim.RecordRequest{Op: "list"})
		if err != nil {
			return err
		}
		for _, r := range reply.Recordings {
			fmt.Fprintln(stdout, r)
		}
		return nil
	}
	reply, err := shim.AskRecorder(policy.RecordSocket, shim.RecordRequest{Op: "stop", ID: rest[0]})
	if err != nil {
		return err
	}
	if reply.Lost > 0 {
		fmt.Fprintf(stderr, "WARNING: the recording LOST %d calls; it was written as INCOMPLETE to %s\n", reply.Lost, reply.Written)
		return exitError(1)
	}
	fmt.Fprintf(stdout, "%s: %d syscalls written to %s\n", rest[0], reply.Syscalls, reply.Written)
	return nil
}
