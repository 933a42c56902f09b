package vm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/sysgate/sysgate/conformance"
)

//go:embed guest_conformance.sh
var guestConformance []byte

// ConformancePayload is what the conformance guest runs: the suite's own
// files at the paths conformance/run-targets.sh expects, and the host's
// runtimes with the shared libraries they load.
type ConformancePayload struct {
	Busybox        string   // static busybox
	Bin            string   // directory with sysgate, sysgate-runc and sysgate-probe (static)
	ConformanceDir string   // the repository's conformance/: run-targets.sh, crun-private.sh, expected-failures/
	Runtimes       []string // e.g. /usr/sbin/runc and /usr/bin/crun, copied to the same paths
}

// BuildConformanceInitramfs writes the conformance guest's initramfs.
func BuildConformanceInitramfs(p ConformancePayload, out string) error {
	files := map[string]string{} // path in the guest -> host file
	for _, name := range []string{"sysgate", "sysgate-runc", "sysgate-probe"} {
		files["work/bin/"+name] = filepath.Join(p.Bin, name)
	}
	for _, name := range []string{"run-targets.sh", "crun-private.sh"} {
		files["work/conformance/"+name] = filepath.Join(p.ConformanceDir, name)
	}
	xfails, err := filepath.Glob(filepath.Join(p.ConformanceDir, "expected-failures", "*.txt"))
	if err != nil || len(xfails) == 0 {
		return fmt.Errorf("conformance initramfs: no expected-failures files under %s", p.ConformanceDir)
	}
	for _, f := range xfails {
		files["work/conformance/expected-failures/"+filepath.Base(f)] = f
	}
	for _, rt := range p.Runtimes {
		libs, err := sharedLibraries(rt)
		if err != nil {
			return err
		}
		for _, f := range append(libs, rt) {
			files[strings.TrimPrefix(f, "/")] = f
		}
	}
	for guest, host := range files {
		if _, err := os.Stat(host); err != nil {
			return fmt.Errorf("conformance initramfs: %s: %w", guest, err)
		}
	}
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	c := NewCpioWriter(gz)
	for _, d := range []string{"bin", "dev", "proc", "sys", "tmp", "root"} {
		c.Dir(d, 0o755)
	}
	c.CharDev("dev/console", 0o600, 5, 1)
	c.CopyFile("bin/busybox", 0o755, p.Busybox)
	c.Symlink("bin/sh", "busybox")
	c.File("init", 0o755, guestConformance)
	dirs := map[string]bool{}
	names := make([]string, 0, len(files))
	for guest := range files {
		names = append(names, guest)
	}
	sort.Strings(names)
	for _, guest := range names {
		for d := path.Dir(guest); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	dirList := make([]string, 0, len(dirs))
	for d := range dirs {
		dirList = append(dirList, d)
	}
	sort.Strings(dirList) // parents sort before their children
	for _, d := range dirList {
		if d != "bin" {
			c.Dir(d, 0o755)
		}
	}
	for _, guest := range names {
		st, _ := os.Stat(files[guest])
		c.CopyFile(guest, uint32(st.Mode().Perm()), files[guest])
	}
	if err := c.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// lddLine is one library in ldd's output: "libc.so.6 => /lib/.../libc.so.6
// (0x...)" or the loader's "/lib64/ld-linux-x86-64.so.2 (0x...)".
var lddLine = regexp.MustCompile(`^\s*(?:\S+ => )?(/\S+) \(0x[0-9a-f]+\)$`)

// sharedLibraries lists what the dynamic loader maps for binary, loader
// included.
func sharedLibraries(binary string) ([]string, error) {
	out, err := exec.Command("ldd", binary).Output()
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %w", binary, err)
	}
	var libs []string
	for _, line := range strings.Split(string(out), "\n") {
		if m := lddLine.FindStringSubmatch(line); m != nil {
			libs = append(libs, m[1])
		}
	}
	if len(libs) == 0 {
		return nil, fmt.Errorf("ldd %s: no libraries in %q", binary, out)
	}
	return libs, nil
}

// ConformanceConfig is one reference run.
type ConformanceConfig struct {
	CacheDir string
	Mirror   string
	Kernel   KernelSpec // booted with syscall.x32=y
	Payload  ConformancePayload
	OutDir   string // initramfs, console log and the data stream
	Timeout  time.Duration
	Accel    string
	Reports  string // where the reports go (docs/conformance)
}

// RunConformance boots the conformance guest once, checks that every target
// ran every case (a reference skips nothing) and writes the reports. The
// Run carries the boot's status for printing.
func RunConformance(ctx context.Context, cfg ConformanceConfig, progress io.Writer) (*Run, []string, error) {
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return nil, nil, fmt.Errorf("qemu-system-x86_64 not found (integration/vm/install-deps.sh installs it): %w", err)
	}
	logs := filepath.Join(cfg.OutDir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return nil, nil, err
	}
	kernels, err := Fetch(cfg.CacheDir, cfg.Mirror, []KernelSpec{cfg.Kernel}, progress)
	if err != nil {
		return nil, nil, err
	}
	initrd := filepath.Join(cfg.OutDir, "conformance.cpio.gz")
	if err := BuildConformanceInitramfs(cfg.Payload, initrd); err != nil {
		return nil, nil, err
	}
	data := filepath.Join(cfg.OutDir, "conformance-reports.tar")
	os.Remove(data)
	opts := BootOptions{Qemu: qemu, Accel: ChooseAccel(cfg.Accel), Initrd: initrd, Memory: "2048", Timeout: cfg.Timeout,
		LogDir: logs, DataSerial: data}
	r := Boot(ctx, kernels[0], true, opts, progress)
	switch {
	case r.Err != "":
		return r, nil, errors.New(r.Err)
	case !r.Finished:
		return r, nil, fmt.Errorf("the conformance guest did not finish (console log in %s)", logs)
	}
	written, err := writeReports(data, cfg.Reports)
	if err != nil {
		return r, written, err
	}
	if r.RC != 0 {
		return r, written, fmt.Errorf("run-targets.sh failed in the guest (exit status %d; console log in %s)", r.RC, logs)
	}
	return r, written, nil
}

// writeReports unpacks the guest's tar stream into dir: one .md and one
// .json per target, each JSON a report that ran every case.
func writeReports(tarPath, dir string) ([]string, error) {
	f, err := os.Open(tarPath)
	if err != nil {
		return nil, fmt.Errorf("the guest sent no reports: %w", err)
	}
	defer f.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var written []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return written, fmt.Errorf("reading the guest's reports: %w", err)
		}
		name := path.Base(h.Name)
		if h.Typeflag != tar.TypeReg || (!strings.HasSuffix(name, ".md") && !strings.HasSuffix(name, ".json")) {
			continue
		}
		body, err := io.ReadAll(io.LimitReader(tr, 16<<20))
		if err != nil {
			return written, err
		}
		out := filepath.Join(dir, name)
		if err := os.WriteFile(out, body, 0o644); err != nil {
			return written, err
		}
		written = append(written, out)
	}
	if len(written) == 0 {
		return nil, errors.New("the guest's tar stream holds no reports")
	}
	sort.Strings(written)
	for _, p := range written {
		if !strings.HasSuffix(p, ".json") {
			continue
		}
		rep, err := conformance.LoadReport(p)
		if err != nil {
			return written, err
		}
		if rep.Summary.Skipped != 0 || rep.Summary.Failed != 0 {
			return written, fmt.Errorf("%s: %s: a reference must run every case and fail none", p, rep.SummaryLine())
		}
	}
	return written, nil
}
