package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// checkUnconfined: container processes running with no seccomp filter now.
// A container process is one in another mount namespace than doctor whose
// ancestors include a containerd shim or conmon (every engine here starts
// containers under one of them). The policy may allow unconfined
// containers, so this is a warning with the list.
func checkUnconfined(env doctorEnv, r *report) {
	// The host's mount namespace is doctor's own (PID 1's may be unreadable
	// where doctor itself runs under a supervisor in a sandbox).
	initNS, nsErr := os.Readlink(filepath.Join(env.procRoot, "self", "ns", "mnt"))
	entries, _ := os.ReadDir(env.procRoot)
	type proc struct {
		ppid    int
		comm    string
		seccomp string
		mntns   string
	}
	procs := map[int]proc{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		status, err := os.ReadFile(filepath.Join(env.procRoot, e.Name(), "status"))
		if err != nil {
			continue
		}
		var p proc
		for _, line := range bytes.Split(status, []byte("\n")) {
			k, v, _ := strings.Cut(string(line), ":")
			v = strings.TrimSpace(v)
			switch k {
			case "Name":
				p.comm = v
			case "PPid":
				p.ppid, _ = strconv.Atoi(v)
			case "Seccomp":
				p.seccomp = v
			}
		}
		p.mntns, _ = os.Readlink(filepath.Join(env.procRoot, e.Name(), "ns", "mnt"))
		procs[pid] = p
	}
	underShim := func(pid int) bool {
		for i := 0; i < 64 && pid > 1; i++ {
			p, ok := procs[pid]
			if !ok {
				return false
			}
			if strings.HasPrefix(p.comm, "containerd-shim") || p.comm == "conmon" {
				return true
			}
			pid = p.ppid
		}
		return false
	}
	var found []string
	containers := 0
	for pid, p := range procs {
		if initNS == "" || p.mntns == "" || p.mntns == initNS || !underShim(p.ppid) {
			continue
		}
		containers++
		if p.seccomp == "0" {
			found = append(found, fmt.Sprintf("%d (%s)", pid, p.comm))
		}
	}
	if initNS == "" {
		r.add("unconfined now", statusWarn, fmt.Sprintf("cannot tell container processes apart: %v", nsErr), "run sysgate doctor as root in the host's namespaces")
		return
	}
	if len(found) > 0 {
		if len(found) > 10 {
			found = append(found[:10], fmt.Sprintf("and %d more", len(found)-10))
		}
		r.add("unconfined now", statusWarn, fmt.Sprintf("%d container processes run without a seccomp filter: %s", len(found), strings.Join(found, ", ")),
			"if the policy should not allow it: unconfined = \"deny\" in "+env.policyPath+", then restart those Pods")
		return
	}
	r.add("unconfined now", statusOK, fmt.Sprintf("%d container processes, all under a seccomp filter", containers), "")
}
