package shim

import (
	"path/filepath"
	"strings"
)

// Invocation is what sysgate needs to know of a runtime command line. The
// arguments themselves are passed on untouched.
type Invocation struct {
	Command     string // create, run, state, ...; empty for e.g. --version
	ContainerID string
	Bundle      string // absolute; only for create and run
	Log         string // --log: where the caller (containerd) reads errors
	LogFormat   string // --log-format: text (runc's default) or json
}

// Global options of runc and crun that take a value; every other global
// option is a switch. The command's own options matter only for create and
// run, where they must be skipped to find the container id.
var (
	globalValueFlags = map[string]bool{
		"root": true, "log": true, "log-format": true, "log-level": true,
		"criu": true, "rootless": true, "cgroup-manager": true,
	}
	createValueFlags = map[string]bool{
		"bundle": true, "b": true, "console-socket": true, "pid-file": true,
		"preserve-fds": true, "pidfd-socket": true,
	}
)

// ParseInvocation reads a runc/crun command line (without argv[0]).
// workDir is the bundle when none is given, as runc does.
func ParseInvocation(args []string, workDir string) Invocation {
	var inv Invocation
	i := 0
	for ; i < len(args); i++ {
		name, value, hasValue, isFlag := splitFlag(args[i])
		if !isFlag {
			break
		}
		if globalValueFlags[name] && !hasValue && i+1 < len(args) {
			i++
			value = args[i]
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
	inv.Bundle = workDir
	for i++; i < len(args); i++ {
		if args[i] == "--" {
			if i+1 < len(args) && inv.ContainerID == "" {
				inv.ContainerID = args[i+1]
			}
			break
		}
		name, value, hasValue, isFlag := splitFlag(args[i])
		if !isFlag {
			if inv.ContainerID == "" {
				inv.ContainerID = args[i]
			}
			continue
		}
		if createValueFlags[name] && !hasValue && i+1 < len(args) {
			i++
			value = args[i]
		}
		if name == "bundle" || name == "b" {
			inv.Bundle = value
		}
	}
	if !filepath.IsAbs(inv.Bundle) {
		inv.Bundle = filepath.Join(workDir, inv.Bundle)
	}
	return inv
}

// splitFlag understands -x, --x, -x=v and --x=v, as runc's option parser
// does.
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
