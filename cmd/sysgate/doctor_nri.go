package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/sysgate/sysgate/shim/nri"
	"github.com/sysgate/sysgate/spec"
)

// checkNRI: the NRI plugin, where one runs or the policy requires one. With
// nri_required and no plugin, the sysgate handlers refuse every container:
// a failure. A plugin of a replaced binary or another policy decides by
// rules other than the handlers'.
func checkNRI(env doctorEnv, r *report, policy spec.Policy, policyOK bool) {
	// Only the plugins of this containerd: another socket is another
	// containerd's (a test's, a second runtime's).
	socket, _ := filepath.Abs(env.nriSocket)
	var plugins []daemonProc
	for _, p := range findDaemons(env.procRoot, "nri", nri.DefaultSocket) {
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
