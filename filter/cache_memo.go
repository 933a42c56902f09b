package filter

import (
	"slices"
	"sync"

	"golang.org/x/sys/unix"
)

// decodedEntries keeps the entries this process read last, decoded, under
// the identity of the file they were read from. A resident process (the
// create helper, the shim, the NRI plugin) serves a node's creates from a
// handful of profiles, and reading, checksumming and decoding the same
// entry again was a seventh of its work per create. Whatever changes the
// file (a write, a chmod, touch's new mtime, another entry renamed over
// it) changes its inode or its ctime, and the entry is read again; the
// open, the fstat and the ownership checks still happen for every lookup.
var decodedEntries = struct {
	sync.Mutex
	byPath map[string]decodedEntry
}{byPath: map[string]decodedEntry{}}

// maxDecodedEntries bounds the memo: a program is at most a few tens of KB.
const maxDecodedEntries = 32

type decodedEntry struct {
	identity fileIdentity
	prog     *Program
}

type fileIdentity struct {
	dev, ino     uint64
	size         int64
	mtime, ctime unix.Timespec
}

func identityOf(st *unix.Stat_t) fileIdentity {
	return fileIdentity{dev: st.Dev, ino: st.Ino, size: st.Size, mtime: st.Mtim, ctime: st.Ctim}
}

func rememberedEntry(path string, st *unix.Stat_t) (*Program, bool) {
	decodedEntries.Lock()
	defer decodedEntries.Unlock()
	e, ok := decodedEntries.byPath[path]
	if !ok || e.identity != identityOf(st) {
		return nil, false
	}
	return e.prog.clone(), true
}

func rememberEntry(path string, st *unix.Stat_t, prog *Program) {
	decodedEntries.Lock()
	defer decodedEntries.Unlock()
	if len(decodedEntries.byPath) >= maxDecodedEntries {
		for p := range decodedEntries.byPath {
			delete(decodedEntries.byPath, p)
			break
		}
	}
	decodedEntries.byPath[path] = decodedEntry{identityOf(st), prog.clone()}
}

// clone copies the program, so that no caller can change what the memo
// hands the next one.
func (p *Program) clone() *Program {
	c := *p
	c.Instructions = slices.Clone(p.Instructions)
	c.Arches = slices.Clone(p.Arches)
	c.Ignored = slices.Clone(p.Ignored)
	c.ForeignArches = slices.Clone(p.ForeignArches)
	c.ByNumber = slices.Clone(p.ByNumber)
	return &c
}
