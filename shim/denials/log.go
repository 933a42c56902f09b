package denials

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// logWriter appends JSON lines to the denial log, never through a
// symlink (it is written as root), and rotates it to .1 past maxBytes like
// the decision log.
type logWriter struct {
	path     string
	maxBytes int64
	f        *os.File
	size     int64
}

func (w *logWriter) open() error {
	if err := os.MkdirAll(filepath.Dir(w.path), 0o750); err != nil {
		return fmt.Errorf("denial_log %s: %w", w.path, err)
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o640)
	if err != nil {
		return fmt.Errorf("denial_log %s: %w; fix the path in the policy or the directory's permissions", w.path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("denial_log %s: %w", w.path, err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return fmt.Errorf("denial_log %s is not a regular file; point denial_log at a file", w.path)
	}
	w.f, w.size = f, st.Size()
	return nil
}

// write appends the lines in one write; rotate reports that the file was
// rotated, so the caller rewrites what the new file must also hold.
func (w *logWriter) write(lines []*Denial) (rotated bool, err error) {
	if w.f == nil {
		if err := w.open(); err != nil {
			return false, err
		}
	}
	var buf []byte
	for _, d := range lines {
		b, err := json.Marshal(d)
		if err != nil {
			return false, err
		}
		buf = append(append(buf, b...), '\n')
	}
	n, err := w.f.Write(buf)
	w.size += int64(n)
	if err != nil {
		return false, fmt.Errorf("denial_log %s: %w", w.path, err)
	}
	if w.size > w.maxBytes {
		w.f.Close()
		w.f = nil
		if err := os.Rename(w.path, w.path+".1"); err != nil {
			return false, fmt.Errorf("denial_log %s: rotating: %w", w.path, err)
		}
		// A new, empty log at once: `sysgate denials --follow` and tools
		// tailing the path find a file.
		return true, w.open()
	}
	return false, nil
}

func (w *logWriter) close() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
}
