package denials

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/sysgate/sysgate/spec"
)

// decisionIndex is the decision log, indexed by container id: who each
// container is (Pod namespace and name, container name) and which profile
// it got. It is read incrementally, from where it stopped, when a record
// names a container it has not seen; a rotation (the file shrank or was
// replaced) starts over, reading the .1 file first.
type decisionIndex struct {
	mu      sync.Mutex
	path    string
	byID    map[string]spec.DecisionRecord
	offset  int64
	ino     uint64
	corrupt int // lines that are not decision records

	byRoot    map[fileKey]string // rootfs -> container id
	rootsRead map[string]bool    // container ids whose rootfs was looked at
}

func newDecisionIndex(path string) *decisionIndex {
	return &decisionIndex{path: path, byID: map[string]spec.DecisionRecord{}}
}

// lookupRoot finds the container whose bundle's root filesystem is the
// directory key, reading the rootfs of containers not looked at yet.
func (x *decisionIndex) lookupRoot(key fileKey) (spec.DecisionRecord, string, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.byRoot == nil {
		x.byRoot, x.rootsRead = map[fileKey]string{}, map[string]bool{}
	}
	find := func() (spec.DecisionRecord, string, bool) {
		if id, ok := x.byRoot[key]; ok {
			return x.byID[id], id, true
		}
		return spec.DecisionRecord{}, "", false
	}
	if d, id, ok := find(); ok {
		return d, id, ok
	}
	x.refresh()
	for id, d := range x.byID {
		if x.rootsRead[id] || d.Bundle == "" {
			continue
		}
		x.rootsRead[id] = true
		if k, ok := bundleRoot(d.Bundle); ok {
			x.byRoot[k] = id
		}
	}
	return find()
}

// bundleRoot is the device and inode of a bundle's root filesystem
// (root.path in config.json, "rootfs" when it cannot be read).
func bundleRoot(bundle string) (fileKey, bool) {
	root := "rootfs"
	if data, err := os.ReadFile(filepath.Join(bundle, "config.json")); err == nil {
		var cfg struct {
			Root *struct {
				Path string `json:"path"`
			} `json:"root"`
		}
		if json.Unmarshal(data, &cfg) == nil && cfg.Root != nil && cfg.Root.Path != "" {
			root = cfg.Root.Path
		}
	}
	if !filepath.IsAbs(root) {
		root = filepath.Join(bundle, root)
	}
	var st syscall.Stat_t
	if syscall.Stat(root, &st) != nil {
		return fileKey{}, false
	}
	return fileKey{st.Dev, st.Ino}, true
}

// lookup returns the latest entry for a container id, refreshing the index
// first when the id is unknown.
func (x *decisionIndex) lookup(id string) (spec.DecisionRecord, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if d, ok := x.byID[id]; ok {
		return d, true
	}
	x.refresh()
	d, ok := x.byID[id]
	return d, ok
}

func (x *decisionIndex) refresh() {
	if x.path == "" {
		return
	}
	f, err := os.Open(x.path)
	if err != nil {
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return
	}
	ino := inode(st)
	if ino != x.ino || st.Size() < x.offset {
		// Rotated: what was appended to the old file before it moved is
		// in .1.
		if old, err := os.Open(x.path + ".1"); err == nil {
			x.readFrom(old, 0)
			old.Close()
		}
		x.ino, x.offset = ino, 0
	}
	x.offset = x.readFrom(f, x.offset)
}

// readFrom reads whole lines from offset and returns the offset after the
// last whole line; a torn last line is read again next time.
func (x *decisionIndex) readFrom(f *os.File, offset int64) int64 {
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return offset
	}
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return offset
		}
		offset += int64(len(line))
		var d spec.DecisionRecord
		if json.Unmarshal(line, &d) != nil || d.Container.ID == "" {
			x.corrupt++
			continue
		}
		x.byID[d.Container.ID] = d
	}
}
