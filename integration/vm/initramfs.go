package vm

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
)

//go:embed guest_init.sh
var guestInit []byte

// Payload is what the guest runs: static binaries built on the host, so the
// guest needs no toolchain and no shared libraries.
type Payload struct {
	Busybox    string // a static busybox (Debian's busybox-static: /bin/busybox)
	FilterTest string // filter.test built with -extldflags -static
	ProbeTest  string // conformance/probe's test binary, likewise
	DenialTest string // shim/denials' test binary, likewise (the i386 denial record)
	Script     string // kernel-tests.sh, which runs both
	Probe      string // conformance/probe's sysgate-probe
	Mkdir32    string // conformance/probe/src/mkdir32.c built with gcc -m32 -static
}

// BuildInitramfs writes a gzip-compressed newc archive with the payload and
// guest_init.sh as /init.
func BuildInitramfs(p Payload, out string) error {
	for _, f := range []string{p.Busybox, p.FilterTest, p.ProbeTest, p.DenialTest, p.Script, p.Probe, p.Mkdir32} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("initramfs: %w", err)
		}
	}
	var buf bytes.Buffer
	// Speed over size: the archive is rebuilt on every run and read once
	// per boot from the host's page cache.
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	c := NewCpioWriter(gz)
	for _, d := range []string{"bin", "dev", "proc", "sys", "tmp", "root", "sysgate"} {
		c.Dir(d, 0o755)
	}
	// The kernel opens /dev/console for init before devtmpfs is mounted.
	c.CharDev("dev/console", 0o600, 5, 1)
	c.CopyFile("bin/busybox", 0o755, p.Busybox)
	c.Symlink("bin/sh", "busybox")
	c.File("init", 0o755, guestInit)
	c.CopyFile("sysgate/filter.test", 0o755, p.FilterTest)
	c.CopyFile("sysgate/probe.test", 0o755, p.ProbeTest)
	c.CopyFile("sysgate/denials.test", 0o755, p.DenialTest)
	c.CopyFile("sysgate/kernel-tests.sh", 0o755, p.Script)
	c.CopyFile("sysgate/sysgate-probe", 0o755, p.Probe)
	c.CopyFile("sysgate/mkdir32", 0o755, p.Mkdir32)
	if err := c.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}
