package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sysgate/sysgate/spec"
)

// daemonProc is a running sysgate daemon (`sysgate helper`, `sysgate nri`)
// as /proc shows it.
type daemonProc struct {
	pid            int
	socket, policy string
	exe            string // /proc/PID/exe's target; "(deleted)" when replaced
}

// findDaemons lists the running `sysgate SUBCOMMAND` processes (for the
// helper, also the lean sysgate-helper it execs), with the
// socket and policy their command lines give (defaultSocket and the
// default policy otherwise), made absolute against each one's working
// directory.
func findDaemons(procRoot, subcommand, defaultSocket string) []daemonProc {
	entries, _ := os.ReadDir(procRoot)
	var out []daemonProc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(procRoot, e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		argv := strings.Split(strings.TrimSuffix(string(raw), "\x00"), "\x00")
		var args []string
		switch {
		case len(argv) >= 2 && filepath.Base(argv[0]) == "sysgate" && argv[1] == subcommand:
			args = argv[2:]
		case subcommand == "helper" && filepath.Base(argv[0]) == leanHelper:
			// `sysgate helper` execs the lean helper with its own flags.
			args = argv[1:]
		default:
			continue
		}
		p := daemonProc{pid: pid, socket: defaultSocket, policy: spec.DefaultPolicyPath}
		for i := 0; i < len(args); i++ {
			name, value, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
			if name != "config" && name != "socket" {
				continue
			}
			if !hasValue && i+1 < len(args) {
				i++
				value = args[i]
			}
			if name == "config" {
				p.policy = value
			} else if value != "" {
				p.socket = value
			}
		}
		cwd, _ := os.Readlink(filepath.Join(procRoot, e.Name(), "cwd"))
		if !filepath.IsAbs(p.policy) {
			p.policy = filepath.Join(cwd, p.policy)
		}
		if !filepath.IsAbs(p.socket) {
			p.socket = filepath.Join(cwd, p.socket)
		}
		p.exe, _ = os.Readlink(filepath.Join(procRoot, e.Name(), "exe"))
		out = append(out, p)
	}
	return out
}
