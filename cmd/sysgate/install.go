package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sysgate/sysgate/deploy/install"
	"github.com/sysgate/sysgate/spec"
)

// engineFlags are the per-engine flags install and uninstall share:
// --containerd picks the engine, --containerd-config names its file.
type engineFlags struct {
	pick map[string]*bool
	path map[string]*string
}

func addEngineFlags(fs *flag.FlagSet, verb string, withPaths bool) engineFlags {
	ef := engineFlags{pick: map[string]*bool{}, path: map[string]*string{}}
	for _, e := range install.Engines {
		if verb != "" {
			ef.pick[e.Name] = fs.Bool(e.Name, false, verb+" "+e.Name+" (no engine flag: every engine "+map[string]string{"install": "present", "uninstall": "in the record", "check": "present or recorded"}[verb]+")")
		}
		if withPaths {
			ef.path[e.Name] = fs.String(e.Name+"-config", e.DefaultPath, e.Name+"'s configuration file")
		}
	}
	return ef
}

// chosen returns the engines named on the command line, or nil for "all".
func (ef engineFlags) chosen() []*install.Engine {
	var out []*install.Engine
	for _, e := range install.Engines {
		if *ef.pick[e.Name] {
			out = append(out, e)
		}
	}
	return out
}

// present: an engine whose binary is in PATH or whose config file exists.
func present(e *install.Engine, path string) bool {
	for _, b := range e.Binaries {
		if _, err := exec.LookPath(b); err == nil {
			return true
		}
	}
	_, err := os.Stat(path)
	return err == nil
}

// restartFlags: --restart and the command it runs.
func restartFlags(fs *flag.FlagSet) (*bool, *string) {
	return fs.Bool("restart", false, "restart each engine whose configuration changed (containerd, crio, docker; podman has no daemon)"),
		fs.String("restart-command", "systemctl restart", "the command that restarts an engine, given its systemd unit (the DaemonSet runs it through nsenter)")
}

func restart(cmdline, unit string, stdout, stderr io.Writer) error {
	args := append(strings.Fields(cmdline), unit)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	fmt.Fprintf(stdout, "restarting %s: %s\n", unit, strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("restarting %s (%s): %w; its configuration is written: restart it by hand", unit, strings.Join(args, " "), err)
	}
	return nil
}

// containerdConfigVersion asks the containerd in PATH for its major
// version: 2.x reads config version 3, 1.x version 2. Unknown means 2,
// which 2.x migrates on load.
func containerdConfigVersion() int {
	out, err := exec.Command("containerd", "--version").Output()
	if err != nil {
		return 2
	}
	// "containerd github.com/containerd/containerd/v2 v2.4.2 <commit>"
	f := strings.Fields(string(out))
	if len(f) >= 3 {
		major, _, _ := strings.Cut(strings.TrimPrefix(f[2], "v"), ".")
		if n, err := strconv.Atoi(major); err == nil && n >= 2 {
			return 3
		}
	}
	return 2
}

// defaultRuntimePath is the sysgate-runc installed with this sysgate, so
// that $(PREFIX)/bin/sysgate install registers $(PREFIX)/bin/sysgate-runc.
func defaultRuntimePath() string {
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			p := filepath.Join(filepath.Dir(exe), "sysgate-runc")
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				return p
			}
		}
	}
	return install.DefaultRuntimePath
}

// loadRecord reads the install record after the same trust check as the
// policy: uninstall edits, as root, whatever files it names.
func loadRecord(path string) (*install.Record, error) {
	if _, err := os.Lstat(path); err == nil {
		if err := spec.CheckTrustedPath(path, "install record"); err != nil {
			return nil, err
		}
	}
	return install.LoadRecord(path)
}

func runInstall(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("install", "[--containerd] [--crio] [--podman] [--docker] [--dry-run] [--restart] [--ENGINE-config FILE] [--handler NAME] [--runtime-path PATH] [--record FILE] [--root DIR]", stdout)
	ef := addEngineFlags(fs, "install", true)
	dryRun := fs.Bool("dry-run", false, "show the changes, write nothing")
	doRestart, restartCmd := restartFlags(fs)
	handler := fs.String("handler", install.DefaultHandler, "the runtime handler's name (RuntimeClass handler, podman and docker --runtime)")
	shimHandler := fs.String("shim-handler", install.DefaultShimHandler, "containerd config version 3 only: a second handler running containerd-shim-sysgate-v1 (containerd 2.4+); empty for none")
	runtimePath := fs.String("runtime-path", defaultRuntimePath(), "sysgate-runc's absolute path (default: the one beside this sysgate, else "+install.DefaultRuntimePath+")")
	cfgVersion := fs.Int("containerd-config-version", 0, "the version a containerd config without a version line gets: 2 or 3 (0: 3 when `containerd --version` says 2.x, else 2)")
	recordPath := fs.String("record", install.DefaultRecordPath, "where install records what it changed, for uninstall and doctor")
	root := fs.String("root", "/", "where the host's / is mounted (the DaemonSet's installer: /host); every other path is the host's")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	engines := ef.chosen()
	if engines == nil {
		for _, e := range install.Engines {
			if present(e, filepath.Join(*root, *ef.path[e.Name])) {
				engines = append(engines, e)
			}
		}
		if engines == nil {
			return errors.New("no container engine found (containerd, crio, podman or dockerd in PATH, or their config files); name one, e.g. --containerd")
		}
	}
	if _, err := os.Stat(filepath.Join(*root, *runtimePath)); err != nil {
		fmt.Fprintf(stderr, "warning: %s: %v; run `make install` first, or give --runtime-path\n", *runtimePath, err)
	}
	o := install.Options{Handler: *handler, RuntimePath: *runtimePath, ShimHandler: *shimHandler, ContainerdConfigVersion: *cfgVersion}
	if o.ContainerdConfigVersion == 0 {
		o.ContainerdConfigVersion = containerdConfigVersion()
	}
	recordFile := filepath.Join(*root, *recordPath)
	record, err := loadRecord(recordFile)
	if err != nil {
		return err
	}
	// Every plan before any write: one engine's bad config stops them all.
	var changes []*install.Change
	var errs []error
	for _, e := range engines {
		c, err := install.PlanInstall(e, *root, *ef.path[e.Name], o, record.Find(e.Name, *ef.path[e.Name]))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		changes = append(changes, c)
	}
	if len(errs) > 0 {
		return fmt.Errorf("nothing written:\n  %w", errors.Join(errs...))
	}
	var restarts []string
	for _, c := range changes {
		if c.Unchanged() {
			fmt.Fprintf(stdout, "%s: %s already has handler %q\n", c.Engine, c.Path, c.Handler)
			continue
		}
		c.Diff(stdout, false)
		if *dryRun {
			continue
		}
		// The record first: a crash between the two leaves a record whose
		// text is not in the file (uninstall then only drops the entry),
		// never an edit nobody knows about.
		previous := record.Find(c.Engine, c.Path)
		var saved *install.Change
		if previous != nil {
			p := *previous
			saved = &p
		}
		record.Put(*c)
		if err := record.Save(recordFile); err != nil {
			return err
		}
		if err := c.Commit(false); err != nil {
			if saved != nil {
				record.Put(*saved)
			} else {
				record.Drop(c.Engine, c.Path)
			}
			if serr := record.Save(recordFile); serr != nil {
				err = errors.Join(err, serr)
			}
			return fmt.Errorf("%s config: %w", c.Engine, err)
		}
		fmt.Fprintf(stdout, "%s: wrote %s\n", c.Engine, c.Path)
		if e, _ := install.EngineNamed(c.Engine); e.Unit != "" {
			restarts = append(restarts, e.Unit)
		}
	}
	return restartEngines(*dryRun, *doRestart, *restartCmd, restarts, stdout, stderr)
}

func runUninstall(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("uninstall", "[--containerd] [--crio] [--podman] [--docker] [--dry-run] [--restart] [--record FILE] [--root DIR] [--forget ENGINE]", stdout)
	ef := addEngineFlags(fs, "uninstall", false)
	dryRun := fs.Bool("dry-run", false, "show the changes, write nothing")
	doRestart, restartCmd := restartFlags(fs)
	recordPath := fs.String("record", install.DefaultRecordPath, "the record install left")
	root := fs.String("root", "/", "where the host's / is mounted; every other path is the host's")
	forget := fs.String("forget", "", "drop ENGINE's entries from the record without touching its config (after taking sysgate's lines out by hand)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	recordFile := filepath.Join(*root, *recordPath)
	record, err := loadRecord(recordFile)
	if err != nil {
		return err
	}
	if *forget != "" {
		n := 0
		for _, c := range append([]install.Change(nil), record.Changes...) {
			if c.Engine == *forget {
				record.Drop(c.Engine, c.Path)
				n++
			}
		}
		if n == 0 {
			return fmt.Errorf("install record %s has no entry for %q", recordFile, *forget)
		}
		return record.Save(recordFile)
	}
	want := map[string]bool{}
	for _, e := range ef.chosen() {
		want[e.Name] = true
	}
	type plan struct {
		c      *install.Change
		remove bool
	}
	var plans []plan
	var errs []error
	for _, c := range record.Changes {
		if len(want) > 0 && !want[c.Engine] {
			continue
		}
		u, remove, err := install.PlanUninstall(*root, c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		plans = append(plans, plan{u, remove})
	}
	if len(errs) > 0 {
		return fmt.Errorf("nothing written:\n  %w", errors.Join(errs...))
	}
	if len(plans) == 0 {
		fmt.Fprintf(stdout, "nothing to uninstall: %s records no change%s\n", recordFile, map[bool]string{true: " for these engines", false: ""}[len(want) > 0])
		return nil
	}
	var restarts []string
	for _, p := range plans {
		if p.c.NothingLeft() {
			fmt.Fprintf(stdout, "%s: %s no longer holds what sysgate install added; dropping its record entry\n", p.c.Engine, p.c.Path)
			if !*dryRun {
				record.Drop(p.c.Engine, p.c.Path)
				if err := record.Save(recordFile); err != nil {
					return err
				}
			}
			continue
		}
		p.c.Diff(stdout, true)
		if p.remove {
			fmt.Fprintf(stdout, "(%s was created by sysgate install and is removed)\n", p.c.Path)
		}
		if *dryRun {
			continue
		}
		if err := p.c.Commit(p.remove); err != nil {
			return fmt.Errorf("%s config: %w", p.c.Engine, err)
		}
		record.Drop(p.c.Engine, p.c.Path)
		if err := record.Save(recordFile); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: restored %s\n", p.c.Engine, p.c.Path)
		if e, err := install.EngineNamed(p.c.Engine); err == nil && e.Unit != "" {
			restarts = append(restarts, e.Unit)
		}
	}
	return restartEngines(*dryRun, *doRestart, *restartCmd, restarts, stdout, stderr)
}

// restartEngines restarts the engines whose configs changed when asked,
// or says how to; a dry run changed nothing.
func restartEngines(dryRun, doRestart bool, restartCmd string, units []string, stdout, stderr io.Writer) error {
	if dryRun {
		fmt.Fprintln(stdout, "dry run: nothing written")
		return nil
	}
	if doRestart {
		for _, unit := range units {
			if err := restart(restartCmd, unit, stdout, stderr); err != nil {
				return err
			}
		}
	} else if len(units) > 0 {
		fmt.Fprintf(stdout, "restart to apply: %s %s (or run again with --restart)\n", restartCmd, strings.Join(units, " "))
	}
	return nil
}
