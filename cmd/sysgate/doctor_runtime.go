package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/sysgate/sysgate/deploy/install"
	"github.com/sysgate/sysgate/spec"
)

// runOut runs a program briefly and returns its stdout; a hung binary must
// not hang doctor.
func runOut(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	timer := time.AfterFunc(10*time.Second, func() {
		if cmd.Process != nil {
			cmd.Process.Kill()
		}
	})
	defer timer.Stop()
	out, err := cmd.Output()
	return string(out), err
}

// checkRuntime: the policy's runtime exists, its version, and what it can
// take from sysgate: seccomp flags (runc says so in `runc features`; crun
// takes sysgate's compiled program, flags included), and crun's
// precompiled handoff.
func checkRuntime(p spec.Policy, r *report) {
	st, err := os.Stat(p.Runtime)
	if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		r.add("runtime", statusFail, fmt.Sprintf("policy %s: runtime %s is not an executable file (%v): every create fails", p.Path, p.Runtime, err),
			"apt-get install runc (or crun), or set runtime in "+p.Path)
		return
	}
	out, err := runOut(p.Runtime, "--version")
	first, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	if err != nil {
		r.add("runtime", statusFail, fmt.Sprintf("%s --version: %v", p.Runtime, err), "reinstall the runtime, or set runtime in "+p.Path)
		return
	}
	if p.HandsOverBPF() {
		r.add("runtime", statusOK, fmt.Sprintf("%s (%s): takes sysgate's compiled program (precompiled handoff, run.oci.seccomp_bpf_data): flags and the ENOSYS stub included", p.Runtime, first), "")
		return
	}
	feat, err := runOut(p.Runtime, "features")
	var f struct {
		Linux struct {
			Seccomp struct {
				Enabled        *bool    `json:"enabled"`
				SupportedFlags []string `json:"supportedFlags"`
			} `json:"seccomp"`
		} `json:"linux"`
	}
	if err == nil {
		err = json.Unmarshal([]byte(feat), &f)
	}
	crun, _ := exec.LookPath("crun")
	alt := "install runc 1.2 or newer"
	if crun != "" {
		alt += ", or set runtime = \"" + crun + "\" in " + p.Path + " (crun takes sysgate's compiled program)"
	}
	switch {
	case err != nil:
		r.add("runtime", statusWarn, fmt.Sprintf("%s (%s): `%s features` fails, so it cannot say which seccomp flags it takes; sysgate-runc hands it no flags", p.Runtime, first, filepath.Base(p.Runtime)), alt)
	case f.Linux.Seccomp.Enabled != nil && !*f.Linux.Seccomp.Enabled:
		r.add("runtime", statusFail, fmt.Sprintf("%s (%s) was built without seccomp", p.Runtime, first), alt)
	case len(f.Linux.Seccomp.SupportedFlags) == 0:
		r.add("runtime", statusWarn, fmt.Sprintf("%s (%s) accepts no seccomp flags: profiles' flags (SPEC_ALLOW, LOG, ...) are not applied, and the ENOSYS stub is runc's own", p.Runtime, first), alt)
	default:
		r.add("runtime", statusOK, fmt.Sprintf("%s (%s): seccomp flags %s", p.Runtime, first, strings.Join(f.Linux.Seccomp.SupportedFlags, " ")), "")
	}
}

// checkEngines: each engine present (or named, or recorded) has the
// handler, the handler's binary exists, and the sysgate beside it is this
// version.
func checkEngines(env doctorEnv, r *report) {
	record, err := loadRecord(env.recordPath)
	if err != nil {
		r.add("install record", statusFail, err.Error(), "")
		record = &install.Record{}
	}
	o := install.Options{Handler: env.handler}
	checked := 0
	for _, e := range install.Engines {
		path, named := env.enginePaths[e.Name]
		if !named {
			path = e.DefaultPath
			for _, c := range record.Changes {
				if c.Engine == e.Name {
					path = c.Path
				}
			}
		}
		recorded := false
		for _, c := range record.Changes {
			recorded = recorded || (c.Engine == e.Name && c.Path == path)
		}
		if len(env.chosen) > 0 && !env.chosen[e.Name] {
			continue
		}
		if !env.chosen[e.Name] && !named && !recorded && !present(e, path) {
			continue
		}
		checked++
		check := "engine " + e.Name
		fixInstall := "sysgate install --" + e.Name
		if path != e.DefaultPath {
			fixInstall += " --" + e.Name + "-config " + path
		}
		data, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			r.add(check, statusFail, err.Error(), "")
			continue
		}
		bin, found, err := e.Lookup(data, o)
		switch {
		case err != nil:
			r.add(check, statusFail, fmt.Sprintf("%s does not parse: %v", path, err), "fix "+path+", then "+fixInstall)
			continue
		case !found:
			r.add(check, statusFail, fmt.Sprintf("%s has no handler %q", path, env.handler), fixInstall)
			continue
		}
		if !filepath.IsAbs(bin) {
			if p, err := exec.LookPath(bin); err == nil {
				bin = p
			}
		}
		st, err := os.Stat(bin)
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			r.add(check, statusFail, fmt.Sprintf("%s: handler %q runs %s, which is not an executable file: its containers fail to start", path, env.handler, bin),
				"make install (puts sysgate-runc in /usr/local/bin), or "+fixInstall+" --runtime-path PATH")
			continue
		}
		if e.Name == "containerd" {
			checkShimHandler(data, path, filepath.Dir(bin), r)
		}
		// sysgate-runc passes --version through to the runtime; the
		// sysgate installed beside it says which build they are.
		sibling := filepath.Join(filepath.Dir(bin), "sysgate")
		out, err := runOut(sibling, "version", "--output", "json")
		var v struct{ Sysgate string }
		if err == nil {
			err = json.Unmarshal([]byte(out), &v)
		}
		switch {
		case err != nil:
			r.add(check, statusWarn, fmt.Sprintf("%s: handler %q runs %s; no sysgate beside it to tell its version (%v)", path, env.handler, bin, err), "make install (installs sysgate and sysgate-runc together)")
		case v.Sysgate != version:
			r.add(check, statusFail, fmt.Sprintf("%s: handler %q runs %s of sysgate %s, this is %s", path, env.handler, bin, v.Sysgate, version),
				"make install with this build (or run the doctor installed with it: "+sibling+" doctor)")
		default:
			r.add(check, statusOK, fmt.Sprintf("%s: handler %q runs %s (sysgate %s)", path, env.handler, bin, v.Sysgate), "")
		}
	}
	if checked == 0 {
		r.add("engines", statusFail, "no container engine found (containerd, crio, podman, dockerd)", "install one, then sysgate install --ENGINE")
	}
}

// checkShimHandler: containerd finds the sysgate-shim handler's binary,
// containerd-shim-sysgate-v1, through its PATH; make install puts it beside
// sysgate-runc.
func checkShimHandler(data []byte, path, binDir string, r *report) {
	_, found, err := containerdEngine().Lookup(data, install.Options{Handler: install.DefaultShimHandler})
	if err != nil || !found {
		return
	}
	const shimBin = "containerd-shim-sysgate-v1"
	if _, err := exec.LookPath(shimBin); err == nil {
		return
	}
	if st, err := os.Stat(filepath.Join(binDir, shimBin)); err == nil && st.Mode()&0o111 != 0 {
		return
	}
	r.add("engine containerd", statusFail, fmt.Sprintf("%s: handler %q needs %s in containerd's PATH, and there is none: its Pods fail to start", path, install.DefaultShimHandler, shimBin),
		"make install (puts it in /usr/local/bin)")
}

func containerdEngine() *install.Engine {
	e, _ := install.EngineNamed("containerd")
	return e
}
