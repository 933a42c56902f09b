package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/syscalls"
	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/profile"
)

// checkKernel: the actions and flags sysgate's filters use, the ABIs, and
// libseccomp against the syscall table.
func checkKernel(r *report) {
	actions, flags := filter.KernelActions(), filter.KernelFlags()
	var missing []string
	for _, need := range []string{"KILL_PROCESS", "ERRNO", "ALLOW"} {
		if !slices.ContainsFunc(actions, func(a string) bool { return strings.HasSuffix(a, need) }) {
			missing = append(missing, need)
		}
	}
	if len(missing) > 0 {
		r.add("kernel seccomp", statusFail, "the kernel lacks seccomp return actions sysgate's filters use: "+strings.Join(missing, ", "),
			"boot a kernel with CONFIG_SECCOMP_FILTER=y, 4.14 or newer")
	} else {
		r.add("kernel seccomp", statusOK, "actions: "+strings.Join(actions, " ")+"; flags: "+strings.Join(flags, " "), "")
	}
	for _, abi := range filter.HostABIs() {
		switch {
		case abi.Live:
			r.add("abi "+abi.ABI, statusOK, "live: sysgate's filters cover it", "")
		case abi.ABI == "i386":
			// Not a fault: one way less into the kernel. Said because
			// i386 binaries in images will not run here.
			r.add("abi "+abi.ABI, statusWarn, "not live ("+abi.Reason+"): 32-bit x86 programs in containers cannot run on this node",
				"nothing, unless images need it: boot with ia32_emulation=1 on the kernel command line (CONFIG_IA32_EMULATION_DEFAULT_DISABLED kernels)")
		default:
			r.add("abi "+abi.ABI, statusOK, "not live ("+abi.Reason+"); nothing to filter there", "")
		}
	}
	var u unix.Utsname
	_ = unix.Uname(&u)
	release := unix.ByteSliceToString(u.Release[:])
	detail := fmt.Sprintf("libseccomp %s; sysgate's syscall table: Linux %s; kernel %s", filter.LibseccompVersion(), syscalls.KernelVersion, release)
	if newerRelease(release, syscalls.KernelVersion) {
		r.add("syscall table", statusWarn, detail+": syscalls newer than the table get ENOSYS in every container",
			"upgrade sysgate to a build whose `sysgate version` table covers Linux "+release)
	} else {
		r.add("syscall table", statusOK, detail, "")
	}
}

// newerRelease: kernel release a ("6.1.0-18-amd64") is newer than b ("7.3")
// by major.minor.
func newerRelease(a, b string) bool {
	mm := func(s string) (int, int) {
		f := strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '-' })
		var x, y int
		if len(f) > 0 {
			x, _ = strconv.Atoi(f[0])
		}
		if len(f) > 1 {
			y, _ = strconv.Atoi(f[1])
		}
		return x, y
	}
	am, an := mm(a)
	bm, bn := mm(b)
	return am > bm || (am == bm && an > bn)
}

// checkPolicy: the file parses, and it, profile_root and cache_dir are
// root's and nobody else's to write (spec's own rules, docs/policy.md).
func checkPolicy(env doctorEnv, r *report) (spec.Policy, bool) {
	path := env.policyPath
	_, statErr := os.Stat(path)
	if errors.Is(statErr, fs.ErrNotExist) {
		r.add("policy", statusWarn, path+" does not exist: sysgate-runc uses the defaults (docs/policy.md)",
			"make install (writes the default policy), or write "+path)
	}
	p, err := spec.LoadPolicy(path)
	trustErr := p.CheckTrusted()
	if err != nil && (trustErr == nil || err.Error() != trustErr.Error()) {
		r.add("policy", statusFail, err.Error(), "fix "+path+" as the error says (docs/policy.md), then run sysgate doctor again")
		return p, false
	}
	if p.Path == "" {
		p.Path = path
	}
	if statErr == nil {
		// Parsed; a trust failure, if any, is its own finding below.
		r.add("policy", statusOK, fmt.Sprintf("%s parses; runtime %s, default %s, unconfined %s", path, p.Runtime, p.Default, p.Unconfined), "")
	}
	for _, c := range []struct{ path, key string }{{p.Path, "policy file"}, {p.ProfileRoot, "profile_root"}, {p.CacheDir, "cache_dir"}} {
		if c.path == "" {
			continue
		}
		if err := spec.CheckTrustedPath(c.path, c.key); err != nil {
			msg := err.Error()
			fix := "make it root's and not writable by group or others"
			if i := strings.LastIndex(msg, "; "); i >= 0 {
				fix, msg = msg[i+2:], msg[:i]
			}
			r.add("trust "+c.key, statusFail, msg+": every create is refused until fixed", fix)
			continue
		}
		r.add("trust "+c.key, statusOK, c.path+": root's, not writable by others", "")
	}
	return p, true
}

// checkProfiles validates and compiles every file under profile_root as a
// Localhost profile would be at create, and lists the ones that would be
// refused.
func checkProfiles(p spec.Policy, r *report) {
	var bad []string
	n := 0
	err := filepath.WalkDir(p.ProfileRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == p.ProfileRoot {
				return fs.SkipAll
			}
			bad = append(bad, fmt.Sprintf("%s: %v", path, err))
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		n++
		rel, _ := filepath.Rel(p.ProfileRoot, path)
		t, err := profile.LoadTemplate(path)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", rel, err))
			return nil
		}
		// As create does: render for the container (Docker's format
		// depends on its capabilities), validate, then compile (without
		// the cache: doctor must not fill it with programs nobody asked
		// for).
		for _, caps := range profile.RepresentativeCapabilities() {
			if _, err := profile.CompileValid(t.Render(caps, profile.HostNode()), filter.Options{}, nil, nil); err != nil {
				bad = append(bad, fmt.Sprintf("%s: %v", rel, err))
				break
			}
		}
		return nil
	})
	if err != nil {
		bad = append(bad, err.Error())
	}
	if len(bad) > 0 {
		r.add("localhost profiles", statusFail, fmt.Sprintf("%d of %d under %s would be refused at create: %s", len(bad), n, p.ProfileRoot, strings.Join(bad, "; ")),
			"fix or remove them; `sysgate profile validate FILE` shows every finding")
		return
	}
	r.add("localhost profiles", statusOK, fmt.Sprintf("%d under %s, all valid", n, p.ProfileRoot), "")
}

// checkDisk: room for the cache to reach its bound.
func checkDisk(p spec.Policy, r *report) {
	if p.CacheDir == "" {
		r.add("cache disk", statusOK, "cache disabled (cache_dir empty)", "")
		return
	}
	dir := p.CacheDir
	for {
		if _, err := os.Stat(dir); err == nil || dir == "/" {
			break
		}
		dir = filepath.Dir(dir)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		r.add("cache disk", statusFail, fmt.Sprintf("cache_dir %s: %v", p.CacheDir, err), "create it: mkdir -p -m 0755 "+p.CacheDir)
		return
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	need := int64(filter.DefaultCacheBytes)
	detail := fmt.Sprintf("%s: %d MiB free on %s, the cache needs up to %d MiB", p.CacheDir, free>>20, dir, need>>20)
	if free < need {
		r.add("cache disk", statusFail, detail+": compiled filters will not be stored and every create compiles", "free space on "+dir+", or point cache_dir elsewhere")
		return
	}
	r.add("cache disk", statusOK, detail, "")
}
