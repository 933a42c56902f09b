package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/sysgate/sysgate/shim"
)

// checkHelper: a helper serves the socket, runs this build, serves this
// policy, and its socket is root's alone. The helper is optional: absent
// is a warning, stale is a failure (it hands every create back, so
// containers start at the speed without it, and an operator who started it
// believes otherwise).
func checkHelper(env doctorEnv, r *report) {
	socket, _ := filepath.Abs(env.helperSocket)
	var h *daemonProc
	for _, p := range findDaemons(env.procRoot, "helper", shim.DefaultHelperSocket) {
		if p.socket == socket {
			p := p
			h = &p
		}
	}
	_, sockErr := os.Lstat(socket)
	if h == nil {
		if sockErr == nil {
			r.add("helper", statusFail, socket+" exists but no `sysgate helper` serves it: every create waits for it, then falls back",
				"systemctl restart sysgate-helper (or remove "+socket+")")
			return
		}
		r.add("helper", statusWarn, "no create helper on "+socket+": containers start without it, ~2 ms slower each (docs/design.md)",
			"systemctl enable --now sysgate-helper")
		return
	}
	fix := "systemctl restart sysgate-helper"
	if strings.HasSuffix(h.exe, " (deleted)") {
		r.add("helper", statusFail, fmt.Sprintf("pid %d runs %s: its binary was replaced since it started", h.pid, h.exe), fix)
		return
	}
	out, err := runOut(filepath.Join(env.procRoot, strconv.Itoa(h.pid), "exe"), "version", "--output", "json")
	var v struct{ Sysgate string }
	if err == nil {
		err = json.Unmarshal([]byte(out), &v)
	}
	if err != nil {
		r.add("helper", statusFail, fmt.Sprintf("pid %d (%s): cannot tell its version: %v", h.pid, h.exe, err), fix)
		return
	}
	if v.Sysgate != version {
		r.add("helper", statusFail, fmt.Sprintf("pid %d runs sysgate %s (%s), this is %s: a stale helper", h.pid, v.Sysgate, h.exe, version), fix)
		return
	}
	policy, _ := filepath.Abs(env.policyPath)
	if !samePath(h.policy, policy) {
		r.add("helper", statusFail, fmt.Sprintf("pid %d serves policy %s, sysgate-runc reads %s: it hands every create back", h.pid, h.policy, policy),
			"run it with --config "+policy+" (deploy/systemd/sysgate-helper.service), then "+fix)
		return
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(socket, &st); err != nil {
		r.add("helper", statusFail, fmt.Sprintf("pid %d: socket %s: %v", h.pid, socket, err), fix)
		return
	}
	var dst syscall.Stat_t
	dirErr := syscall.Stat(filepath.Dir(socket), &dst)
	if st.Mode&0o077 != 0 || st.Uid != uint32(os.Geteuid()) || dirErr != nil || dst.Mode&0o022 != 0 {
		r.add("helper", statusFail, fmt.Sprintf("socket %s is mode %04o uid %d in a directory of mode %04o: others could ask the helper", socket, st.Mode&0o7777, st.Uid, dst.Mode&0o7777),
			fmt.Sprintf("chmod 0600 %s && chmod go-w %s", socket, filepath.Dir(socket)))
		return
	}
	r.add("helper", statusOK, fmt.Sprintf("pid %d serves %s (mode %04o) for %s, sysgate %s", h.pid, socket, st.Mode&0o7777, h.policy, v.Sysgate), "")
}

func samePath(a, b string) bool {
	if a == b {
		return true
	}
	ra, errA := filepath.EvalSymlinks(a)
	rb, errB := filepath.EvalSymlinks(b)
	return errA == nil && errB == nil && ra == rb
}
