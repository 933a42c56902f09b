package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// CheckTrustedPath refuses, as sudo and sshd do, a file or directory that
// someone other than root (or the user sysgate runs as) could change or
// replace: the path itself, or any directory above it, owned by another
// user or writable by group or others. A directory above with the sticky
// bit (/tmp) passes: others cannot rename or remove what is in it. Both
// the path as written and the path its symlinks lead to are checked. A
// path that does not exist yet is judged by the directories that would
// hold it. key names it in the error, e.g. "cache_dir".
func CheckTrustedPath(path, key string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("%s %s: %w", key, path, err)
	}
	euid := uint32(os.Geteuid())
	sawLink := false
	check := func(chain []string) error {
		for i, p := range chain {
			var st unix.Stat_t
			if err := unix.Lstat(p, &st); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				return fmt.Errorf("%s %s: %s: %w", key, path, p, err)
			}
			if st.Mode&unix.S_IFMT == unix.S_IFLNK {
				sawLink = true
				continue // only whoever may write its directory can change it
			}
			what := "a directory above it, " + p + ","
			if i == 0 {
				what = "it"
			}
			if st.Uid != 0 && st.Uid != euid {
				return fmt.Errorf("%s %s is not safe: %s is owned by uid %d, so that user could change what sysgate enforces; make it root's (chown root %s)", key, path, what, st.Uid, p)
			}
			sticky := i > 0 && st.Mode&unix.S_IFMT == unix.S_IFDIR && st.Mode&unix.S_ISVTX != 0
			if st.Mode&0o022 != 0 && !sticky {
				return fmt.Errorf("%s %s is not safe: %s is writable by group or others (mode %04o), so they could change what sysgate enforces; chmod go-w %s", key, path, what, st.Mode&0o7777, p)
			}
		}
		return nil
	}
	if err := check(ancestors(abs)); err != nil {
		return err
	}
	// The path its symlinks lead to, only when it has any: resolving costs
	// as much again, on every create.
	if sawLink {
		if real, err := filepath.EvalSymlinks(abs); err == nil && real != abs {
			return check(ancestors(real))
		}
	}
	return nil
}

// ancestors lists abs and every directory above it, abs first.
func ancestors(abs string) []string {
	out := []string{abs}
	for p := abs; p != "/"; {
		p = filepath.Dir(p)
		out = append(out, p)
	}
	return out
}
