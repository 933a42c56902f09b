package vm

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// TestCpioLayout reads the archive back field by field: the kernel's
// unpacker is strict about the 4-byte alignment of names and data.
func TestCpioLayout(t *testing.T) {
	var buf bytes.Buffer
	c := NewCpioWriter(&buf)
	c.Dir("bin", 0o755)
	c.File("init", 0o755, []byte("#!/bin/sh\n"))
	c.Symlink("bin/sh", "busybox")
	c.CharDev("dev/console", 0o600, 5, 1)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		name       string
		mode       uint64
		data       string
		rmaj, rmin uint64
	}
	var got []entry
	b := buf.Bytes()
	for off := 0; ; {
		if off%4 != 0 {
			t.Fatalf("entry at offset %d is not 4-byte aligned", off)
		}
		h := string(b[off : off+110])
		if h[:6] != "070701" {
			t.Fatalf("bad magic %q at %d", h[:6], off)
		}
		field := func(i int) uint64 {
			v, err := strconv.ParseUint(h[6+8*i:14+8*i], 16, 32)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		size, namesize := int(field(6)), int(field(11))
		name := string(b[off+110 : off+110+namesize-1])
		dataOff := (off + 110 + namesize + 3) &^ 3
		e := entry{name, field(1), string(b[dataOff : dataOff+size]), field(9), field(10)}
		got = append(got, e)
		off = (dataOff + size + 3) &^ 3
		if name == "TRAILER!!!" {
			if off != len(b) {
				t.Errorf("%d bytes after the trailer", len(b)-off)
			}
			break
		}
	}
	want := []entry{
		{"bin", cpioDir | 0o755, "", 0, 0},
		{"init", cpioReg | 0o755, "#!/bin/sh\n", 0, 0},
		{"bin/sh", cpioSymlink | 0o777, "busybox", 0, 0},
		{"dev/console", cpioChar | 0o600, "", 5, 1},
		{"TRAILER!!!", 0, "", 0, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("entries: %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestCpioToolReadsIt cross-checks with GNU cpio when it is installed.
func TestCpioToolReadsIt(t *testing.T) {
	tool, err := exec.LookPath("cpio")
	if err != nil {
		t.Skip("GNU cpio is not installed; TestCpioLayout covers the format")
	}
	var buf bytes.Buffer
	c := NewCpioWriter(&buf)
	c.Dir("d", 0o755)
	c.File("d/f", 0o644, []byte("hello"))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(tool, "-id", "--quiet")
	cmd.Dir, cmd.Stdin = dir, &buf
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cpio -i: %v: %s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "d", "f")); err != nil || string(b) != "hello" {
		t.Fatalf("d/f = %q, %v", b, err)
	}
}

func TestCpioRefusesDuplicates(t *testing.T) {
	c := NewCpioWriter(&bytes.Buffer{})
	c.File("x", 0o644, nil)
	c.File("x", 0o644, nil)
	if err := c.Close(); err == nil {
		t.Fatal("a duplicate entry was accepted")
	}
}
