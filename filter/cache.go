package filter

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/sysgate/sysgate/filter/bpf"
)

// Cache keeps compiled programs on disk, keyed by everything that decides
// their content, so that a container start pays for libseccomp once per
// profile rather than once per container. Entries are written atomically
// (temporary file, rename) and carry their key and a checksum: a reader
// never sees a torn entry, an entry renamed to another key is not taken for
// it, and a damaged one is deleted and compiled again, never loaded.
//
// A cached program is loaded into containers without being compiled again,
// so the cache is trusted only as far as its directory is: a directory, not
// a symlink, owned by root (or the user sysgate runs as) and writable by
// nobody else, with entries of the same owner that nobody else can write.
// Anything else is neither read nor written, and every container compiles.
type Cache struct {
	Dir string
	// MaxBytes bounds the cache; the least recently used entries go first.
	// Zero means DefaultCacheBytes.
	MaxBytes int64
	// Salt goes into every key: what besides the profile and the compiler
	// decides whether a stored program may be used, such as the version of
	// the validator that passed it (the spec package sets it).
	Salt string
}

// DefaultCacheBytes is enough for hundreds of distinct profiles.
const DefaultCacheBytes = 64 << 20

// cacheFormat changes whenever the compiler's output for the same input
// may change (the stub, the rule translation, the entry layout).
const cacheFormat = "sysgate-bpf-v4"

var cacheMagic = []byte("SGBPF\x04")

// keyLen is the length of a key: hex sha256.
const keyLen = 2 * sha256.Size

// cacheMeta is what an entry stores besides the instructions.
type cacheMeta struct {
	StubLength       int          `json:"stubLength"`
	Flags            uint         `json:"flags"`
	Arches           []specs.Arch `json:"arches"`
	ListenerPath     string       `json:"listenerPath,omitempty"`
	ListenerMetadata string       `json:"listenerMetadata,omitempty"`
	Ignored          []string     `json:"ignored,omitempty"`
	// ByNumber: which syscalls the program filters by number, and whether
	// the kernel it was compiled on lacks them (the kernel release is in
	// the key).
	ByNumber []NumberedSyscall `json:"byNumber,omitempty"`
}

// Lookup returns the cached program for the profile, if there is a sound
// entry for it.
func (c *Cache) Lookup(profile *specs.LinuxSeccomp, opts Options) (*Program, bool) {
	if c == nil || c.Dir == "" || !c.trusted() {
		return nil, false
	}
	key, err := c.key(profile, opts)
	if err != nil {
		return nil, false
	}
	path := filepath.Join(c.Dir, key+".bpf")
	prog, ok := readEntry(path, key)
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
	if key, err := c.key(profile, opts); err == nil && c.store(key, prog) == nil {
		c.evict()
	}
	return prog, false, nil
}

// key is CacheKey with the cache's salt.
func (c *Cache) key(profile *specs.LinuxSeccomp, opts Options) (string, error) {
	return cacheKey(profile, opts, c.Salt)
}

// trusted reports whether the cache directory is one only its owner, root
// or the user sysgate runs as, can change.
func (c *Cache) trusted() bool {
	var st unix.Stat_t
	return unix.Lstat(c.Dir, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR && ownedSafely(&st)
}

func ownedSafely(st *unix.Stat_t) bool {
	return (st.Uid == 0 || st.Uid == uint32(os.Geteuid())) && st.Mode&0o022 == 0
}

// CacheKey names a program by its inputs: the profile, the options, the
// compiler (sysgate's format, libseccomp's version) and the kernel release
// (whose syscall table and features the filter was checked against).
func CacheKey(profile *specs.LinuxSeccomp, opts Options) (string, error) {
	return cacheKey(profile, opts, "")
}

func cacheKey(profile *specs.LinuxSeccomp, opts Options, salt string) (string, error) {
	data, err := json.Marshal(profile)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	// json.Marshal drops an empty flags list; absent and empty flags compile
	// differently, so say which.
	fmt.Fprintf(h, "%s\nlibseccomp %s\nkernel %s\narches %v\noptimize %d\njoint %t\nflags-absent %t\nsalt %q\n",
		cacheFormat, LibseccompVersion(), kernelRelease(), opts.Arches, opts.optimize(), opts.Joint, profile.Flags == nil, salt)
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (c *Cache) store(key string, prog *Program) error {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	if !c.trusted() {
		return errors.New("cache directory not trusted")
	}
	meta, err := json.Marshal(cacheMeta{prog.StubLength, prog.Flags, prog.Arches, prog.ListenerPath, prog.ListenerMetadata, prog.Ignored, prog.ByNumber})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.Write(cacheMagic)
	buf.WriteString(key)
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
	return os.Rename(tmp.Name(), filepath.Join(c.Dir, key+".bpf"))
}

// readEntry loads and checks the entry for key; anything wrong with it
// removes it. An entry another user owns or may write is not read.
func readEntry(path, key string) (*Program, bool) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || !ownedSafely(&st) || st.Size > maxEntryBytes {
		return nil, false
	}
	if prog, ok := rememberedEntry(path, &st); ok {
		return prog, true
	}
	data, err := io.ReadAll(io.LimitReader(f, maxEntryBytes))
	if err != nil {
		return nil, false
	}
	prog, err := decodeEntry(data, key)
	if err != nil {
		os.Remove(path)
		return nil, false
	}
	rememberEntry(path, &st, prog)
	return prog, true
}

// maxEntryBytes bounds an entry: BPF_MAXINSNS instructions and metadata.
const maxEntryBytes = 1 << 20

func decodeEntry(data []byte, key string) (*Program, error) {
	const sumLen = sha256.Size
	head := len(cacheMagic) + keyLen + 4
	if len(data) < head+sumLen || !bytes.Equal(data[:len(cacheMagic)], cacheMagic) {
		return nil, errors.New("not a cache entry")
	}
	body, sum := data[:len(data)-sumLen], data[len(data)-sumLen:]
	if want := sha256.Sum256(body); !bytes.Equal(want[:], sum) {
		return nil, errors.New("checksum mismatch")
	}
	if string(data[len(cacheMagic):len(cacheMagic)+keyLen]) != key {
		return nil, errors.New("the entry was stored for another key")
	}
	metaLen := int(binary.LittleEndian.Uint32(data[len(cacheMagic)+keyLen : head]))
	if metaLen > len(body)-head {
		return nil, errors.New("bad metadata length")
	}
	var meta cacheMeta
	if err := json.Unmarshal(body[head:head+metaLen], &meta); err != nil {
		return nil, err
	}
	insns, err := bpf.Decode(body[head+metaLen:])
	if err != nil {
		return nil, err
	}
	if err := bpf.Check(insns); err != nil {
		return nil, err
	}
	if meta.StubLength < 0 || meta.StubLength > len(insns) {
		return nil, errors.New("bad stub length")
	}
	return &Program{Instructions: insns, StubLength: meta.StubLength, Flags: meta.Flags, Arches: meta.Arches,
		ListenerPath: meta.ListenerPath, ListenerMetadata: meta.ListenerMetadata, Ignored: meta.Ignored, ByNumber: meta.ByNumber}, nil
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
