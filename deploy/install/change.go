package install

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// A Change is one engine's edit: what install inserted into which file.
// The record keeps it, and uninstall reverses it from there.
type Change struct {
	Engine  string   `json:"engine"`
	Path    string   `json:"path"`
	Handler string   `json:"handler"`
	Runtime string   `json:"runtime"`
	Created bool     `json:"created"` // the file did not exist: uninstall removes it once empty again
	Inserts []Insert `json:"inserts"`
	// After is the file's digest as install left it (sha256, hex).
	After string `json:"after"`

	current, next []byte // the file now, and as it will be
	existed       bool
	removed       []Insert // a previous install's text this change takes out
	nothingLeft   bool     // uninstall: none of the inserted text is there any more
	root          string   // the host's root as this process sees it ("/" but in the DaemonSet's installer)
}

// file is the path to open: Path under root.
func (c *Change) file() string { return filepath.Join(c.root, c.Path) }

// Unchanged reports whether writing the change would leave the file as it
// is (install run twice).
func (c *Change) Unchanged() bool { return c.existed && bytes.Equal(c.current, c.next) }

// NothingLeft reports, for an uninstall, that none of install's text is in
// the file any more (or the file is gone): there is nothing to write, and
// the record entry only has to be dropped.
func (c *Change) NothingLeft() bool { return c.nothingLeft }

// Current and Next are the file's contents now and after the change.
func (c *Change) Current() []byte { return c.current }
func (c *Change) Next() []byte    { return c.next }

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// readConfig reads an engine's config; a missing file is empty.
func readConfig(path string) (data []byte, existed bool, err error) {
	data, err = os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return data, true, nil
}

// PlanInstall works out the edit that adds the handler to path. previous
// is the record's change for the same file, if any: it is taken out first,
// so that installing again with other options replaces the block (and
// installing again with the same ones changes nothing). Nothing is
// written.
//
// root is where the host's / is ("/" except in a container that mounts the
// host's directories elsewhere); path is the host's path, and the record
// keeps that, so that uninstall on the host finds the file.
func PlanInstall(e *Engine, root, path string, o Options, previous *Change) (*Change, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("%s config %s: give an absolute path", e.Name, path)
	}
	if st, err := os.Lstat(filepath.Join(root, path)); err == nil && st.Mode()&os.ModeSymlink != 0 {
		target, _ := os.Readlink(filepath.Join(root, path))
		return nil, fmt.Errorf("%s config %s is a symlink to %s; give the file itself with --%s-config (a rename would replace the link with a file)", e.Name, path, target, e.Name)
	}
	current, existed, err := readConfig(filepath.Join(root, path))
	if err != nil {
		return nil, fmt.Errorf("%s config %s: %w", e.Name, path, err)
	}
	base, created := current, !existed
	if previous == nil && e.legacy != nil {
		// A block an older installer wrote without a record: taken out and
		// replaced, so that upgrading a node needs no hand edit.
		if ins := e.legacy(current); ins != nil {
			previous = &Change{Inserts: ins, Created: created}
		}
	}
	var removed []Insert
	if previous != nil && !e.gone(current, previous) {
		removed = previous.Inserts
		if base, err = revert(current, previous.Inserts); err != nil {
			return nil, fmt.Errorf("%s config %s: %w; take sysgate's lines out by hand, then run sysgate install again", e.Name, path, err)
		}
		created = previous.Created
	}
	inserts, added, err := e.plan(base, o)
	if err != nil {
		return nil, fmt.Errorf("%s config %s: %w", e.Name, path, err)
	}
	next, err := apply(base, inserts)
	if err != nil {
		return nil, fmt.Errorf("%s config %s: internal: %w", e.Name, path, err)
	}
	if err := verify(e.Format, base, next, added); err != nil {
		return nil, fmt.Errorf("%s config %s: %w; nothing written; add the handler by hand (docs/deploy.md)", e.Name, path, err)
	}
	return &Change{
		Engine: e.Name, Path: path, Handler: o.Handler, Runtime: o.RuntimePath,
		Created: created, Inserts: inserts, After: digest(next),
		current: current, next: next, existed: existed, root: root, removed: removed,
	}, nil
}

// PlanUninstall works out the edit that takes c's inserts out of its file
// again. A file install created and that is empty afterwards is removed
// (Next returns nil and Remove reports true).
func PlanUninstall(root string, c Change) (*Change, bool, error) {
	c.root = root
	e, err := EngineNamed(c.Engine)
	if err != nil {
		return nil, false, err
	}
	current, existed, err := readConfig(c.file())
	if err != nil {
		return nil, false, fmt.Errorf("%s config %s: %w", c.Engine, c.Path, err)
	}
	if !existed || e.gone(current, &c) {
		// Nothing of sysgate's is left to take out: the record entry
		// only has to go.
		out := c
		out.current, out.next, out.existed, out.nothingLeft = current, current, existed, true
		return &out, false, nil
	}
	next, err := revert(current, c.Inserts)
	if err != nil {
		return nil, false, fmt.Errorf("%s config %s: %w; take sysgate's lines out by hand, then run sysgate uninstall --forget %s", c.Engine, c.Path, err, c.Engine)
	}
	if _, err := decode(e.Format, next); err != nil {
		return nil, false, fmt.Errorf("%s config %s: without sysgate's lines the file would not parse (%v); it was edited by hand: fix it, then run sysgate uninstall again", c.Engine, c.Path, err)
	}
	out := c
	out.current, out.next, out.existed = current, next, true
	remove := c.Created && len(next) == 0
	return &out, remove, nil
}
