package vm

import (
	"fmt"
	"io"
	"os"
)

// CpioWriter writes the "newc" cpio format, the one the kernel unpacks as an
// initramfs. It is written here, rather than shelling out to cpio(1), so that
// the archive needs no staging directory, can hold device nodes without root
// and comes out byte-identical for identical inputs (all times are zero).
type CpioWriter struct {
	w     io.Writer
	ino   uint32
	off   int64
	err   error
	names map[string]bool
}

// NewCpioWriter starts an archive on w.
func NewCpioWriter(w io.Writer) *CpioWriter {
	return &CpioWriter{w: w, ino: 1, names: map[string]bool{}}
}

// Mode bits of the cpio header (the same as st_mode).
const (
	cpioDir     = 0o040000
	cpioReg     = 0o100000
	cpioSymlink = 0o120000
	cpioChar    = 0o020000
)

func (c *CpioWriter) write(p []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(p)
	c.off += int64(n)
	c.err = err
}

func (c *CpioWriter) pad() {
	if r := c.off % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}

// header writes one entry's header and name; the data follows.
func (c *CpioWriter) header(name string, mode uint32, size int64, rdevMajor, rdevMinor uint32) {
	if c.err == nil && c.names[name] && name != "TRAILER!!!" {
		c.err = fmt.Errorf("cpio: duplicate entry %q", name)
	}
	c.names[name] = true
	nlink := uint32(1)
	if mode&0o170000 == cpioDir {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, nlink, 0, uint32(size), 0, 0, rdevMajor, rdevMinor, len(name)+1, 0)
	c.ino++
	c.write([]byte(hdr))
	c.write(append([]byte(name), 0))
	c.pad()
}

// Dir adds a directory.
func (c *CpioWriter) Dir(name string, perm uint32) {
	c.header(name, cpioDir|perm, 0, 0, 0)
}

// File adds a regular file with the given content.
func (c *CpioWriter) File(name string, perm uint32, data []byte) {
	c.header(name, cpioReg|perm, int64(len(data)), 0, 0)
	c.write(data)
	c.pad()
}

// CopyFile adds a regular file read from the host.
func (c *CpioWriter) CopyFile(name string, perm uint32, hostPath string) {
	data, err := os.ReadFile(hostPath)
	if err != nil {
		if c.err == nil {
			c.err = err
		}
		return
	}
	c.File(name, perm, data)
}

// Symlink adds a symbolic link.
func (c *CpioWriter) Symlink(name, target string) {
	c.header(name, cpioSymlink|0o777, int64(len(target)), 0, 0)
	c.write([]byte(target))
	c.pad()
}

// CharDev adds a character device node.
func (c *CpioWriter) CharDev(name string, perm, major, minor uint32) {
	c.header(name, cpioChar|perm, 0, major, minor)
}

// Close writes the trailer and returns the first error.
func (c *CpioWriter) Close() error {
	c.header("TRAILER!!!", 0, 0, 0, 0)
	return c.err
}
