package install

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// A Record is what `sysgate install` did, kept (DefaultRecordPath) so that
// `sysgate uninstall` takes out exactly that, and `sysgate doctor` knows
// which files to look at.
type Record struct {
	Version int      `json:"version"`
	Changes []Change `json:"changes"`
}

const recordVersion = 1

// LoadRecord reads the record; a missing one is empty.
func LoadRecord(path string) (*Record, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Record{Version: recordVersion}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("install record %s: %w", path, err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("install record %s: %v; it is sysgate's own file: restore it, or remove the handlers by hand", path, err)
	}
	if r.Version != recordVersion {
		return nil, fmt.Errorf("install record %s: version %d, this sysgate reads version %d", path, r.Version, recordVersion)
	}
	return &r, nil
}

// Find returns the change for the engine and file, or nil.
func (r *Record) Find(engine, path string) *Change {
	for i := range r.Changes {
		if r.Changes[i].Engine == engine && r.Changes[i].Path == path {
			return &r.Changes[i]
		}
	}
	return nil
}

// Put records c, replacing the change for the same engine and file.
func (r *Record) Put(c Change) {
	if old := r.Find(c.Engine, c.Path); old != nil {
		*old = c
		return
	}
	r.Changes = append(r.Changes, c)
}

// Drop forgets the change for the engine and file.
func (r *Record) Drop(engine, path string) {
	out := r.Changes[:0]
	for _, c := range r.Changes {
		if c.Engine != engine || c.Path != path {
			out = append(out, c)
		}
	}
	r.Changes = out
}

// Save writes the record atomically, root's only; an empty record is
// removed.
func (r *Record) Save(path string) error {
	if len(r.Changes) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("install record %s: %w", path, err)
		}
		return nil
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("install record %s: %w", path, err)
	}
	if err := WriteAtomic(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("install record %s: %w", path, err)
	}
	return nil
}
