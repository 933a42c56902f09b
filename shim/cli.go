package shim

import (
	"fmt"
	"slices"
	"strings"
)

// Invocation is what sysgate needs to know of a runtime command line. The
// arguments themselves are passed on untouched, except the bundle's value,
// which sysgate-runc replaces with the directory it resolved and edited.
type Invocation struct {
	Command     string // create, run, state, ...; empty for e.g. --version
	ContainerID string
	Bundle      string // as given, relative to the working directory; "." when none is given
	Log         string // --log: where the caller (containerd) reads errors
	LogFormat   string // --log-format: text (runc's default) or json

	// Unclear says why the command line cannot be read with certainty: an
	// option neither runc nor crun has under exactly that name (crun takes
	// unambiguous abbreviations, so "--roo x create" is crun's --root), a
	// value attached to a short option ("-b/dir"), or an option that points
	// the runtime at another config file ("-f"). Such a command line is
	// never passed on: sysgate-runc refuses it, the helper hands it back.
	Unclear string

	// CreatesNothing says why a create or run will not create anything:
	// it asks for help, or it does not name exactly one container. The
	// runtime then prints its help or its usage error; sysgate-runc hands
	// it the command line untouched, so that both are the runtime's own.
	// Counted as the runtimes count: runc reads options only up to the
	// first argument and crun anywhere, but neither creates with a help
	// switch or with other than one argument.
	CreatesNothing string

	bundleArg    int    // index of the argument that holds the bundle's value; -1 for none
	bundlePrefix string // "--bundle=" when the value is attached
}

// The options of runc and crun that sysgate-runc reads exactly. A global
// option is one of these, or the command line is Unclear. The C fast path
// (cmd/sysgate-runc/fastpath.c) has the same global lists; a test keeps
// them equal.
var (
	globalValueFlags = []string{"root", "log", "log-format", "log-level", "criu", "rootless", "cgroup-manager"}
	globalSwitches   = []string{"debug", "systemd-cgroup", "help", "h", "version", "v"}

	createValueFlags = []string{"bundle", "b", "console-socket", "pid-file", "preserve-fds", "pidfd-socket"}
	createSwitches   = []string{"no-pivot", "no-new-keyring", "detach", "d", "keep", "no-subreaper", "help", "h"}
	// Options that make the runtime read another file than the bundle's
	// config.json (crun's --config/-f): sysgate would decide for a file
	// the runtime never reads.
	configFlags = []string{"config", "f"}
)

// ParseInvocation reads a runc/crun command line (without argv[0]).
func ParseInvocation(args []string) Invocation {
	inv := Invocation{bundleArg: -1}
	i := 0
	for ; i < len(args); i++ {
		name, value, hasValue, isFlag := splitFlag(args[i])
		if !isFlag {
			break
		}
		switch {
		case hasValue && !strings.HasPrefix(args[i], "--"):
			inv.unclear("global option %q: crun reads a value attached to a single-dash option with its \"=\", runc without; write --%s=VALUE", args[i], name)
		case slices.Contains(globalValueFlags, name):
			if !hasValue && i+1 < len(args) {
				i++
				value = args[i]
			}
		case slices.Contains(globalSwitches, name) && !hasValue:
		default:
			inv.unclear("global option %q is not one sysgate-runc knows exactly (runc and crun options must be written in full)", args[i])
		}
		switch name {
		case "log":
			inv.Log = value
		case "log-format":
			inv.LogFormat = value
		}
	}
	if i >= len(args) {
		return inv
	}
	inv.Command = args[i]
	if inv.Command != "create" && inv.Command != "run" {
		return inv
	}
	inv.Bundle = "."
	var containers []string
	help := false
	for i++; i < len(args); i++ {
		if args[i] == "--" {
			containers = append(containers, args[i+1:]...)
			break
		}
		name, value, hasValue, isFlag := splitFlag(args[i])
		if !isFlag {
			containers = append(containers, args[i])
			continue
		}
		if (name == "help" || name == "h") && !hasValue {
			help = true
		}
		switch {
		case hasValue && !strings.HasPrefix(args[i], "--"):
			inv.unclear("%s option %q: crun reads a value attached to a single-dash option with its \"=\", runc without; write -b DIR or --bundle=DIR", inv.Command, args[i])
		case slices.Contains(configFlags, name):
			inv.unclear("%s option %q makes the runtime read another config file than the bundle's config.json, which sysgate decides for", inv.Command, args[i])
		case slices.Contains(createValueFlags, name):
			valueAt := i
			if !hasValue && i+1 < len(args) {
				i++
				valueAt = i
				value = args[i]
			}
			if name == "bundle" || name == "b" {
				inv.Bundle, inv.bundleArg, inv.bundlePrefix = value, valueAt, ""
				if hasValue {
					inv.bundlePrefix = args[i][:len(args[i])-len(value)]
				}
			}
		case slices.Contains(createSwitches, name) && !hasValue:
		default:
			inv.unclear("%s option %q is not one sysgate-runc knows exactly (values of short options go in the next argument: -b DIR)", inv.Command, args[i])
		}
	}
	if len(containers) > 0 {
		inv.ContainerID = containers[0]
	}
	switch {
	case help:
		inv.CreatesNothing = "it asks for help"
	case len(containers) != 1:
		inv.CreatesNothing = fmt.Sprintf("it names %d containers, not one", len(containers))
	}
	return inv
}

func (inv *Invocation) unclear(format string, a ...any) {
	if inv.Unclear == "" {
		inv.Unclear = fmt.Sprintf(format, a...)
	}
}

// WithBundle returns args with the bundle's value replaced by dir (the
// directory sysgate resolved and edited), so that the runtime opens that
// directory and not whatever the given path names by the time it looks.
// Without a bundle option the runtime uses its working directory, which
// nobody else can change, and args are returned as they are.
func (inv Invocation) WithBundle(args []string, dir string) []string {
	if inv.bundleArg < 0 || inv.bundleArg >= len(args) {
		return args
	}
	out := slices.Clone(args)
	out[inv.bundleArg] = inv.bundlePrefix + dir
	return out
}

// splitFlag understands -x, --x, -x=v and --x=v, as runc's option parser
// does. A single dash with more than one letter and no "=" ("-bDIR") is
// returned whole as its name, so that it matches no known option: crun
// reads it as -b DIR, runc as an unknown option.
func splitFlag(arg string) (name, value string, hasValue, isFlag bool) {
	if len(arg) < 2 || arg[0] != '-' || arg == "--" {
		return "", "", false, false
	}
	name = strings.TrimLeft(arg, "-")
	if k, v, ok := strings.Cut(name, "="); ok {
		return k, v, true, true
	}
	return name, "", false, true
}
