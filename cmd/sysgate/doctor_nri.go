package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sysgate/sysgate/shim/nri"
	"github.com/sysgate/sysgate/spec"
)

// nriProc is a running `sysgate nri` as /proc shows it.
type nriProc struct {
	pid                 int
	socket, policy, exe string
}

func findNRIPlugins(procRoot string) []nriProc {
	entries, _ := os.ReadDir(procRoot)
	var out []nriProc
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
		if len(argv) < 2 || filepath.Base(argv[0]) != "sysgate" || argv[1] != "nri" {
			continue
		}
		p := nriProc{pid: pid, socket: nri.DefaultSocket, policy: spec.DefaultPolicyPath}
		for i := 2; i < len(argv); i++ {
			name, value, hasValue := strings.Cut(strings.TrimLeft(argv[i], "-"), "=")
			if name != "config" && name != "socket" {
				continue
			}
			if !hasValue && i+1 < len(argv) {
				i++
				value = argv[i]
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

// checkNRI: the NRI plugin, where one runs or the policy requires one. With
// nri_required and no plugin, the sysgate handlers refuse every container:
// a failure. A plugin of a replaced binary or another policy decides by
// rules other than the handlers'.
func checkNRI(env doctorEnv, r *report, policy spec.Policy, policyOK bool) {
	// Only the plugins of this containerd: another socket is another
	// containerd's (a test's, a second runtime's).
	socket, _ := filepath.Abs(env.nriSocket)
	var plugins []nriProc
	for _, p := range findNRIPlugins(env.procRoot) {
		if samePath(p.socket, socket) {
			plugins = append(plugins, p)
		}
	}
	required := policyOK && policy.NRIRequired
	if len(plugins) == 0 {
		if required {
			r.add("nri plugin", statusFail, "nri_required = true but no `sysgate nri` registers on "+socket+": the sysgate handlers refuse every container but Pod sandboxes",
				"systemctl enable --now sysgate-nri (deploy/systemd/sysgate-nri.service)")
		}
		return
	}
	want, _ := filepath.Abs(env.policyPath)
	for _, p := range plugins {
		switch {
		case strings.HasSuffix(p.exe, " (deleted)"):
			r.add("nri plugin", statusFail, fmt.Sprintf("pid %d runs %s: its binary was replaced since it started", p.pid, p.exe), "systemctl restart sysgate-nri")
		case !samePath(p.policy, want):
			r.add("nri plugin", statusFail, fmt.Sprintf("pid %d decides with policy %s, the handlers read %s", p.pid, p.policy, want),
				"run it with --config "+want+" (deploy/systemd/sysgate-nri.service), then systemctl restart sysgate-nri")
		default:
			r.add("nri plugin", statusOK, fmt.Sprintf("pid %d decides with %s", p.pid, p.policy), "")
		}
	}
}
