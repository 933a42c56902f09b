package vm

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// KernelSpec names a kernel by where Debian publishes it: the newest version
// of a metapackage in one suite.
type KernelSpec struct {
	Label string // short name for tables, e.g. "5.10"
	Suite string // e.g. "bullseye"
	Meta  string // e.g. "linux-image-amd64"
}

// DefaultKernels are the kernel series the matrix boots: the stable Debian
// releases that the archive still serves, plus the 7.x lines. 5.10's cloud
// flavour is built without x32, which gives the matrix a kernel where x32 is
// absent rather than merely disabled.
var DefaultKernels = []KernelSpec{
	{"5.10", "bullseye", "linux-image-amd64"},
	{"5.10-cloud", "bullseye", "linux-image-cloud-amd64"},
	{"6.1", "bookworm", "linux-image-amd64"},
	{"6.12", "trixie", "linux-image-amd64"},
	{"7.2", "sid", "linux-image-amd64"},
	{"7.3", "trixie-backports", "linux-image-amd64"},
}

// Kernel is a fetched kernel: the bzImage and its build configuration.
type Kernel struct {
	Spec    KernelSpec
	ABI     string // e.g. "6.12.117+deb13-amd64"
	Version string // Debian package version, e.g. "6.12.117-1"
	Vmlinuz string
	Config  string
}

// ConfigHas reports whether the kernel's config sets option (e.g.
// "CONFIG_X86_X32_ABI") to y.
func (k Kernel) ConfigHas(option string) bool {
	raw, err := os.ReadFile(k.Config)
	if err != nil {
		return false
	}
	return bytes.Contains(raw, []byte("\n"+option+"=y\n"))
}

// X32Built reports whether x32 is compiled in (the option was renamed in
// 5.18).
func (k Kernel) X32Built() bool {
	return k.ConfigHas("CONFIG_X86_X32_ABI") || k.ConfigHas("CONFIG_X86_X32")
}

// X32DefaultOff reports whether x32 is built but off unless the command line
// says syscall.x32=y (Debian's choice since 5.x).
func (k Kernel) X32DefaultOff() bool { return k.ConfigHas("CONFIG_X86_X32_DISABLED") }

// Apt runs apt-get and apt-cache against a private configuration under Dir:
// its own sources, lists and package cache. The machine's apt sources and
// state are never read or written, so the suites named here do not leak into
// the host's package management.
type Apt struct {
	Dir    string    // e.g. /var/cache/sysgate-vm/apt
	Mirror string    // Debian archive URI
	Suites []string  // suites to list
	Log    io.Writer // progress
	// Arch, when set, is the Debian architecture to list and download
	// (arm64 kernels and packages on an amd64 host); "" is the host's.
	Arch string
}

func (a *Apt) options() []string {
	var arch []string
	if a.Arch != "" {
		arch = []string{"-o", "APT::Architecture=" + a.Arch, "-o", "APT::Architectures=" + a.Arch}
	}
	return append(arch, []string{
		"-o", "Dir::Etc::SourceList=/dev/null",
		"-o", "Dir::Etc::SourceParts=" + filepath.Join(a.Dir, "sources.list.d"),
		"-o", "Dir::State::Lists=" + filepath.Join(a.Dir, "lists"),
		"-o", "Dir::Cache=" + filepath.Join(a.Dir, "cache"),
		"-o", "Dir::State::status=/dev/null",
		// Docker-style images switch the binary cache off (docker-clean);
		// without it every apt-cache call re-parses all suites' lists (2 s).
		"-o", "Dir::Cache::pkgcache=pkgcache.bin",
		"-o", "Dir::Cache::srcpkgcache=",
		"-o", "Acquire::Languages=none",
		// Old suites' Release files are past Valid-Until on some mirrors.
		"-o", "Acquire::Check-Valid-Until=false",
		"-o", "APT::Sandbox::User=root",
	}...)
}

func (a *Apt) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, append(a.options(), args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Env = append(os.Environ(), "LC_ALL=C", "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// Update writes the private sources and downloads the package lists, unless
// they are younger than maxAge.
func (a *Apt) Update(maxAge time.Duration) error {
	for _, d := range []string{"sources.list.d", "lists/partial", "cache/archives/partial"} {
		if err := os.MkdirAll(filepath.Join(a.Dir, d), 0o755); err != nil {
			return err
		}
	}
	// Targets: Packages keeps apt from fetching DEP-11 and Contents indexes
	// that a host's apt.conf.d may enable (tens of MB per suite).
	sources := fmt.Sprintf("Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nTargets: Packages\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
		a.Mirror, strings.Join(a.Suites, " "))
	path := filepath.Join(a.Dir, "sources.list.d", "sysgate-vm.sources")
	old, _ := os.ReadFile(path)
	stamp := filepath.Join(a.Dir, "updated")
	if string(old) == sources {
		if st, err := os.Stat(stamp); err == nil && time.Since(st.ModTime()) < maxAge {
			fmt.Fprintf(a.Log, "apt: package lists are %s old, not refreshing\n", time.Since(st.ModTime()).Round(time.Minute))
			return nil
		}
	}
	if err := os.WriteFile(path, []byte(sources), 0o644); err != nil {
		return err
	}
	start := time.Now()
	if _, err := a.run("apt-get", "-q", "update"); err != nil {
		return err
	}
	fmt.Fprintf(a.Log, "apt: lists of %s updated in %.1fs\n", strings.Join(a.Suites, ", "), time.Since(start).Seconds())
	return os.WriteFile(stamp, nil, 0o644)
}

var madisonLine = regexp.MustCompile(`^\s*(\S+)\s*\|\s*(\S+)\s*\|\s*(\S+)\s+(\S+)/main\s`)

// Resolve finds the version of spec.Meta in spec.Suite and the package(s)
// that hold its vmlinuz and config.
func (a *Apt) Resolve(spec KernelSpec) (abi, version string, pkgs []string, err error) {
	out, err := a.run("apt-cache", "madison", spec.Meta)
	if err != nil {
		return "", "", nil, err
	}
	for _, line := range strings.Split(string(out), "\n") {
		m := madisonLine.FindStringSubmatch(line)
		if m != nil && m[1] == spec.Meta && m[4] == spec.Suite {
			version = m[2]
			break
		}
	}
	if version == "" {
		return "", "", nil, fmt.Errorf("%s is not in %s (apt-cache madison: %q)", spec.Meta, spec.Suite, strings.TrimSpace(string(out)))
	}
	depends, err := a.depends(spec.Meta, version)
	if err != nil {
		return "", "", nil, err
	}
	var image string
	for _, d := range depends {
		if strings.HasPrefix(d, "linux-image-") && d != spec.Meta {
			image = d
		}
	}
	if image == "" {
		return "", "", nil, fmt.Errorf("%s=%s depends on no linux-image package: %v", spec.Meta, version, depends)
	}
	abi = strings.TrimPrefix(image, "linux-image-")
	imgDepends, err := a.depends(image, version)
	if err != nil {
		return "", "", nil, err
	}
	// Since 6.16 linux-image-X is an empty metapackage: vmlinuz is in
	// linux-binary-X and the config in linux-base-X.
	for _, d := range imgDepends {
		if d == "linux-binary-"+abi || d == "linux-base-"+abi {
			pkgs = append(pkgs, d+"="+version)
		}
	}
	if len(pkgs) == 0 {
		pkgs = []string{image + "=" + version}
	}
	return abi, version, pkgs, nil
}

func (a *Apt) depends(pkg, version string) ([]string, error) {
	out, err := a.run("apt-cache", "show", pkg+"="+version)
	if err != nil {
		return nil, err
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "Depends:")
		if !ok {
			continue
		}
		for _, alt := range strings.Split(rest, ",") {
			for _, d := range strings.Split(alt, "|") {
				if f := strings.Fields(d); len(f) > 0 {
					names = append(names, f[0])
				}
			}
		}
		break // the first stanza is the version asked for
	}
	return names, nil
}

// Download fetches packages (name=version) into dir and returns the .deb
// paths.
func (a *Apt) Download(dir string, pkgs []string) ([]string, error) {
	cmd := exec.Command("apt-get", append(append(a.options(), "-q", "download"), pkgs...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("apt-get download %v: %v: %s", pkgs, err, out)
	}
	return filepath.Glob(filepath.Join(dir, "*.deb"))
}

// manifest records what Fetch resolved, so that a machine that lost its
// network can still boot the cached kernels.
type manifest map[string]Kernel

// Fetch resolves every spec and makes sure its vmlinuz and config are under
// cacheDir/kernels, downloading and extracting only what is missing. When the
// archive cannot be reached it falls back to the kernels fetched last time.
func Fetch(cacheDir, mirror string, specs []KernelSpec, log io.Writer) ([]Kernel, error) {
	return FetchFor("", cacheDir, mirror, specs, log)
}

// FetchFor is Fetch for the Debian architecture arch ("" is the host's):
// its own package lists (cacheDir/apt-ARCH) and manifest.
func FetchFor(arch, cacheDir, mirror string, specs []KernelSpec, log io.Writer) ([]Kernel, error) {
	suites := []string{}
	seen := map[string]bool{}
	for _, s := range specs {
		if !seen[s.Suite] {
			seen[s.Suite] = true
			suites = append(suites, s.Suite)
		}
	}
	apt := &Apt{Dir: filepath.Join(cacheDir, "apt"), Mirror: mirror, Suites: suites, Log: log, Arch: arch}
	manPath := filepath.Join(cacheDir, "kernels", "manifest.json")
	if arch != "" {
		apt.Dir = filepath.Join(cacheDir, "apt-"+arch)
		manPath = filepath.Join(cacheDir, "kernels", "manifest-"+arch+".json")
	}
	old := manifest{}
	if raw, err := os.ReadFile(manPath); err == nil {
		json.Unmarshal(raw, &old)
	}
	updateErr := apt.Update(12 * time.Hour)
	if updateErr != nil {
		fmt.Fprintf(log, "apt: %v\napt: falling back to the kernels cached in %s\n", updateErr, manPath)
	}
	var out []Kernel
	for _, spec := range specs {
		k, err := fetchOne(apt, cacheDir, spec, updateErr != nil, log)
		if err != nil {
			cached, ok := old[spec.Label]
			if !ok || !exists(cached.Vmlinuz) {
				return nil, fmt.Errorf("kernel %s (%s from %s): %w", spec.Label, spec.Meta, spec.Suite, err)
			}
			fmt.Fprintf(log, "kernel %s: %v; using cached %s\n", spec.Label, err, cached.ABI)
			k = cached
		}
		old[spec.Label] = k
		out = append(out, k)
	}
	raw, _ := json.MarshalIndent(old, "", "  ")
	return out, os.WriteFile(manPath, raw, 0o644)
}

func fetchOne(apt *Apt, cacheDir string, spec KernelSpec, offline bool, log io.Writer) (Kernel, error) {
	if offline {
		return Kernel{}, errors.New("the package lists could not be updated")
	}
	abi, version, pkgs, err := apt.Resolve(spec)
	if err != nil {
		return Kernel{}, err
	}
	dir := filepath.Join(cacheDir, "kernels", abi+"_"+version)
	k := Kernel{Spec: spec, ABI: abi, Version: version, Vmlinuz: filepath.Join(dir, "vmlinuz"), Config: filepath.Join(dir, "config")}
	if exists(k.Vmlinuz) && exists(k.Config) {
		fmt.Fprintf(log, "kernel %s: %s (%s) cached\n", spec.Label, abi, version)
		return k, nil
	}
	start := time.Now()
	tmp, err := os.MkdirTemp(filepath.Join(cacheDir, "kernels"), "download-")
	if err != nil {
		return Kernel{}, err
	}
	defer os.RemoveAll(tmp)
	debs, err := apt.Download(tmp, pkgs)
	if err != nil {
		return Kernel{}, err
	}
	staging := filepath.Join(tmp, "out")
	if err := os.MkdirAll(staging, 0o755); err != nil {
		return Kernel{}, err
	}
	for _, deb := range debs {
		if err := extractKernelFiles(deb, staging); err != nil {
			return Kernel{}, err
		}
	}
	if !exists(filepath.Join(staging, "vmlinuz")) || !exists(filepath.Join(staging, "config")) {
		return Kernel{}, fmt.Errorf("no vmlinuz or config in %v", pkgs)
	}
	os.RemoveAll(dir)
	if err := os.Rename(staging, dir); err != nil {
		return Kernel{}, err
	}
	fmt.Fprintf(log, "kernel %s: %s (%s) downloaded and extracted in %.1fs\n", spec.Label, abi, version, time.Since(start).Seconds())
	return k, nil
}

// extractKernelFiles copies the kernel image and config out of a .deb,
// wherever the package keeps them (boot/ before 6.16, usr/lib/modules/ after),
// without unpacking the modules.
func extractKernelFiles(deb, dir string) error {
	cmd := exec.Command("dpkg-deb", "--fsys-tarfile", deb)
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	tr := tar.NewReader(pipe)
	var terr error
	for {
		h, err := tr.Next()
		if err != nil {
			if err != io.EOF {
				terr = err
			}
			break
		}
		name := strings.TrimPrefix(h.Name, "./")
		var dest string
		switch {
		case strings.HasPrefix(name, "boot/vmlinuz-"), regexp.MustCompile(`^usr/lib/modules/[^/]+/vmlinuz$`).MatchString(name):
			dest = "vmlinuz"
		case strings.HasPrefix(name, "boot/config-"), regexp.MustCompile(`^usr/lib/modules/[^/]+/config$`).MatchString(name):
			dest = "config"
		default:
			continue
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		f, err := os.Create(filepath.Join(dir, dest))
		if err == nil {
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			terr = err
			break
		}
	}
	io.Copy(io.Discard, pipe)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("dpkg-deb --fsys-tarfile %s: %v: %s", deb, err, stderr.String())
	}
	return terr
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
