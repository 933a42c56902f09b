package filter

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Cache keeps compiled programs on disk, keyed by everything that decides
// their content, so that a container start pays for libseccomp once per
// profile rather than once per container. Entries are written atomically
// (temporary file, rename) and carry a checksum: a reader never sees a torn
// entry, and a damaged one is deleted and compiled again, never loaded.
type Cache struct {
	Dir string
	// MaxBytes bounds the cache; the least recently used entries go first.
	// Zero means DefaultCacheBytes.
	MaxBytes int64
}

// DefaultCacheBytes is enough for hundreds of distinct profiles.
const DefaultCacheBytes = 64 << 20

// cacheFormat changes whenever the compiler's output for the same input
// may change (the stub, the rule translation, the entry layout).
const cacheFormat = "sysgate-bpf-v2"

var cacheMagic = []byte("SGBPF\x01")

// cacheMeta is what an entry stores besides the instructions.
type cacheMeta struct {
	StubLength       int          `json:"stubLength"`
	Flags            uint         `json:"flags"`
	Arches           []specs.Arch `json:"arches"`
	ListenerPath     string       `json:"listenerPath,omitempty"`
	ListenerMetadata string       `json:"listenerMetadata,omitempty"`
	Ignored          []string     `json:"ignored,omitempty"`
}

// Lookup returns the cached program for the profile, if there is a sound
// entry for it.
func (c *Cache) Lookup(profile *specs.LinuxSeccomp, opts Options) (*Program, bool) {
	if c == nil || c.Dir == "" {
		return nil, false
	}
	key, err := CacheKey(profile, opts)
	if err != nil {
		return nil, false
	}
	path := filepath.Join(c.Dir, key+".bpf")
	prog, ok := readEntry(path)
	if ok {
		touch(path)
	}
	return prog, ok
}

// recencyResolution: an entry used within this long is recent enough for
// eviction, so a hit writes its time at most this often. Writing it on
// every hit was an inode update per container start.
const recencyResolution = time.Minute

// touch records that an entry was used, for eviction.
func touch(path string) {
	st, err := os.Stat(path)
	if err != nil {
		return
	}
	if now := time.Now(); now.Sub(st.ModTime()) > recencyResolution {
		os.Chtimes(path, now, now)
	}
}

// Compile returns the cached program for the profile, or compiles and
// stores it. Callers validate the profile first: the cache holds programs of
// profiles that passed, so that a hit can skip validation too. A nil Cache
// just compiles; a cache that cannot be written is not an error, the
// program is still correct.
func (c *Cache) Compile(profile *specs.LinuxSeccomp, opts Options) (prog *Program, hit bool, err error) {
	if prog, ok := c.Lookup(profile, opts); ok {
		return prog, true, nil
	}
	prog, err = Compile(profile, opts)
	if err != nil || c == nil || c.Dir == "" {
		return prog, false, err
	}
	if key, err := CacheKey(profile, opts); err == nil && c.store(filepath.Join(c.Dir, key+".bpf"), prog) == nil {
		c.evict()
	}
	return prog, false, nil
}

// CacheKey names a program by its inputs: the profile, the options, the
// compiler (sysgate's format, libseccomp's version) and the kernel release
// (whose syscall table and features the filter was checked against).
func CacheKey(profile *specs.LinuxSeccomp, opts Options) (string, error) {
	data, err := json.Marshal(profile)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	// json.Marshal drops an empty flags list; absent and empty flags compile
	// differently, so say which.
	fmt.Fprintf(h, "%s\nlibseccomp %s\nkernel %s\narches %v\noptimize %d\njoint %t\nflags-absent %t\n",
		cacheFormat, LibseccompVersion(), kernelRelease(), opts.Arches, opts.optimize(), opts.Joint, profile.Flags == nil)
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (c *Cache) store(path string, prog *Program) error {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	meta, err := json.Marshal(cacheMeta{prog.StubLength, prog.Flags, prog.Arches, prog.ListenerPath, prog.ListenerMetadata, prog.Ignored})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.Write(cacheMagic)
	binary.Write(&buf, binary.LittleEndian, uint32(len(meta)))
	buf.Write(meta)
	buf.Write(prog.Bytes())
	sum := sha256.Sum256(buf.Bytes())
	buf.Write(sum[:])

	tmp, err := os.CreateTemp(c.Dir, ".entry-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// readEntry loads and checks an entry; anything wrong with it removes it.
func readEntry(path string) (*Program, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	prog, err := decodeEntry(data)
	if err != nil {
		os.Remove(path)
		return nil, false
	}
	return prog, true
}

func decodeEntry(data []byte) (*Program, error) {
	const sumLen = sha256.Size
	head := len(cacheMagic) + 4
	if len(data) < head+sumLen || !bytes.Equal(data[:len(cacheMagic)], cacheMagic) {
		return nil, errors.New("not a cache entry")
	}
	body, sum := data[:len(data)-sumLen], data[len(data)-sumLen:]
	if want := sha256.Sum256(body); !bytes.Equal(want[:], sum) {
		return nil, errors.New("checksum mismatch")
	}
	metaLen := int(binary.LittleEndian.Uint32(data[len(cacheMagic):head]))
	if metaLen > len(body)-head {
		return nil, errors.New("bad metadata length")
	}
	var meta cacheMeta
	if err := json.Unmarshal(body[head:head+metaLen], &meta); err != nil {
		return nil, err
	}
	insns, err := DecodeInstructions(body[head+metaLen:])
	if err != nil {
		return nil, err
	}
	if err := CheckProgram(insns); err != nil {
		return nil, err
	}
	if meta.StubLength < 0 || meta.StubLength > len(insns) {
		return nil, errors.New("bad stub length")
	}
	return &Program{Instructions: insns, StubLength: meta.StubLength, Flags: meta.Flags, Arches: meta.Arches,
		ListenerPath: meta.ListenerPath, ListenerMetadata: meta.ListenerMetadata, Ignored: meta.Ignored}, nil
}

// evict removes the least recently used entries once the cache is over its
// bound, down to three quarters of it, so that eviction is rare.
func (c *Cache) evict() {
	limit := c.MaxBytes
	if limit <= 0 {
		limit = DefaultCacheBytes
	}
	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		return
	}
	type file struct {
		path string
		size int64
		used time.Time
	}
	var files []file
	var total int64
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".bpf") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		files = append(files, file{filepath.Join(c.Dir, e.Name()), info.Size(), info.ModTime()})
		total += info.Size()
	}
	if total <= limit {
		return
	}
	sort.Slice(files, func(i, j int) bool { return files[i].used.Before(files[j].used) })
	for _, f := range files {
		if total <= limit*3/4 {
			break
		}
		if err := os.Remove(f.path); err == nil || errors.Is(err, fs.ErrNotExist) {
			total -= f.size
		}
	}
}
