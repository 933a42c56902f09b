// Command sysgate validates, compiles, explains and tests seccomp profiles,
// and runs a command under one.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func init() {
	// A seccomp filter belongs to the thread that loads it: keep the main
	// goroutine on the main thread so that "sysgate exec" loads and execs
	// from the same one.
	runtime.LockOSThread()
}

// A command runs with its arguments and reports its exit status.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"profile validate": {"check profiles against the OCI schema and sysgate's rules", runValidate},
	"profile compile":  {"compile a profile to a BPF program (raw or disassembled)", runCompile},
	"profile explain":  {"show the effective action for each syscall", runExplain},
	"profile default":  {"print the RuntimeDefault profile for a capability set", runDefault},
	"profile render":   {"print a Docker-format profile rendered for a capability set on this node", runRender},
	"profile merge":    {"write the union of profiles (recordings of replicas or runs)", runMerge},
	"profile diff":     {"compare two profiles by meaning: every (ABI, syscall) whose verdict differs", runDiff},
	"conformance":      {"run the seccomp conformance suite against an OCI runtime", runConformance},
	"exec":             {"run a command under a profile", runExec},
	"record":           {"run a command, record its syscalls with eBPF, write the allowlist profile", runRecord},
	"record stop":      {"end a container's recording now: the helper writes its profile", runRecordStop},
	"install":          {"add sysgate's runtime handler to the container engines' configs", runInstall},
	"uninstall":        {"take out exactly what install added, from its record", runUninstall},
	"doctor":           {"check this node's sysgate setup and say how to fix what is wrong", runDoctor},
	"denials":          {"show the seccomp denials the helper's collector recorded, by Pod, container, syscall and rule", runDenials},
	"helper":           {"serve sysgate-runc's creates from a resident process (faster starts)", runHelper},
	"nri":              {"the containerd NRI plugin: decide every Pod's profile at the CRI's create", runNRI},
	"ps":               {"list the node's containers, their decisions and their seccomp state", runPs},
	"resolve":          {"show the profile sysgate-runc would give a bundle, changing nothing", runResolve},
	"verify":           {"prove a container's threads hold the filter sysgate decided", runVerify},
	"version":          {"print sysgate's, libseccomp's and the kernel's versions", runVersion},
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit statuses: 0 success, 1 the input is bad or the action failed, 2 the
// command line is wrong.
const (
	exitFailure = 1
	exitUsage   = 2
)

// errUsage marks command-line mistakes, which exit with 2.
var errUsage = errors.New("usage")

// exitError carries an exit status without another message (validate has
// already printed its findings).
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func dispatch(args []string, stdout, stderr io.Writer) int {
	name, rest := findCommand(args)
	if name == "" {
		if len(args) > 0 && !isHelp(args[0]) {
			fmt.Fprintf(stderr, "sysgate: unknown command %q\n\n", strings.Join(args, " "))
			usage(stderr)
			return exitUsage
		}
		usage(stdout)
		return 0
	}
	err := commands[name].run(rest, stdout, stderr)
	var code exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "sysgate %s: %v\n", name, err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "sysgate %s: %v\n", name, err)
		return exitFailure
	}
}

func findCommand(args []string) (string, []string) {
	if len(args) >= 2 {
		if _, ok := commands[args[0]+" "+args[1]]; ok {
			return args[0] + " " + args[1], args[2:]
		}
	}
	if len(args) >= 1 {
		if _, ok := commands[args[0]]; ok {
			return args[0], args[1:]
		}
	}
	return "", nil
}

func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "--help" || arg == "-help" || arg == "profile"
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "sysgate: a seccomp gate for Linux containers\n\nUsage: sysgate COMMAND [OPTIONS] [ARGS]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-18s %s\n", name, commands[name].summary)
	}
	fmt.Fprintln(w, "\nRun 'sysgate COMMAND --help' for a command's options.")
}
