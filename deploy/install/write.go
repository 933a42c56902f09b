package install

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// WriteAtomic replaces path with data through a temporary file in the same
// directory, renamed over it: a reader (an engine restarting) sees the old
// file or the new one, never a torn one. The new file takes the old one's
// mode and owner; a new file gets mode newMode and root's ownership. The
// temporary file is private while written, since engine configs can hold
// registry credentials.
func WriteAtomic(path string, data []byte, newMode fs.FileMode) error {
	mode, uid, gid := newMode, -1, -1
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(sys.Uid), int(sys.Gid)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".sysgate-*")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if uid >= 0 {
		if err := tmp.Chown(uid, gid); err != nil {
			return fmt.Errorf("%s: keeping its owner %d:%d: %w", path, uid, gid, err)
		}
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	done = true
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Commit writes the change (or removes a file install created, when
// remove). Parent directories of a new file are created 0755.
func (c *Change) Commit(remove bool) error {
	if remove {
		if err := os.Remove(c.file()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	if !c.existed {
		if err := os.MkdirAll(filepath.Dir(c.file()), 0o755); err != nil {
			return err
		}
	}
	return WriteAtomic(c.file(), c.next, 0o644)
}
