package vm

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeTar(t *testing.T, files map[string]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "reports.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	f.Close()
	return path
}

// The guest's reports become the reference only when every target ran
// every case.
func TestWriteReports(t *testing.T) {
	const complete = `{"runtime":"runc","summary":{"passed":1,"failed":0,"skipped":0,"total":1},"results":[{"case":"a/b","verdict":"PASS","observed":"allowed"}]}`
	const skipped = `{"runtime":"runc","summary":{"passed":0,"failed":0,"skipped":1,"total":1},"results":[{"case":"a/b","verdict":"SKIP"}]}`
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string // substring of the error; "" for success
		count int
	}{
		{"complete", map[string]string{"./runc.json": complete, "./runc.md": "# runc\n", "./stray.txt": "x"}, "", 2},
		{"a skipped case", map[string]string{"./runc.json": skipped}, "a reference must run every case", 1},
		{"no reports", map[string]string{"./notes.txt": "x"}, "holds no reports", 0},
		{"not a report", map[string]string{"./runc.json": "{"}, "not a conformance report", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			written, err := writeReports(writeTar(t, tc.files), dir)
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if len(written) != tc.count {
				t.Errorf("wrote %v, want %d files", written, tc.count)
			}
		})
	}
	if _, err := writeReports(filepath.Join(t.TempDir(), "absent.tar"), t.TempDir()); err == nil || !strings.Contains(err.Error(), "sent no reports") {
		t.Errorf("no stream: %v", err)
	}
}

func TestSharedLibraries(t *testing.T) {
	libs, err := sharedLibraries("/bin/sh")
	if err != nil {
		t.Fatalf("ldd (libc-bin) is part of every Debian system: %v", err)
	}
	var loader, libc bool
	for _, l := range libs {
		loader = loader || strings.Contains(l, "ld-linux")
		libc = libc || strings.HasSuffix(l, "/libc.so.6")
	}
	if !loader || !libc {
		t.Errorf("libraries of /bin/sh: %v, want the loader and libc", libs)
	}
	for _, line := range []string{"\tlinux-vdso.so.1 (0x00007ffc)", "\tstatically linked"} {
		if lddLine.MatchString(line) {
			t.Errorf("%q taken as a library", line)
		}
	}
}
