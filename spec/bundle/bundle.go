package bundle

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/spec/internal/jsonobj"
	"github.com/sysgate/sysgate/spec/profile"
	"github.com/sysgate/sysgate/spec/refusal"
	"golang.org/x/sys/unix"
)

// AnnotationDecision records in the bundle what sysgate applied, so that a
// second create on the same bundle changes nothing and `runc state` /
// `crictl inspect` show the decision.
const AnnotationDecision = "io.github.sysgate.seccomp"

// AnnotationCrunBPF hands crun a compiled filter: crun loads it instead of
// compiling linux.seccomp itself.
const AnnotationCrunBPF = "run.oci.seccomp_bpf_data"

// crunSeccompAnnotations are crun's other seccomp annotations: a socket
// that receives the container's listener fd, and notify plugins (shared
// libraries crun loads to answer notifications).
var crunSeccompAnnotations = []string{"run.oci.seccomp.receiver", "run.oci.seccomp.plugins"}

// MaxConfigSize bounds config.json; real ones are tens of KB.
const MaxConfigSize = 16 << 20

// Bundle is an OCI bundle's config.json: the bytes as received, which are
// written back untouched on any error, and the parsed spec. The directory is
// resolved once, by the kernel, into a descriptor, and config.json is read
// and replaced through it: whatever the path says (symlinks, "..", a
// directory renamed meanwhile), sysgate edits the file the runtime opens
// when it resolves the same path from the same directory.
type Bundle struct {
	Dir  string // the directory's real path, for messages
	Raw  []byte
	Spec *specs.Spec
	// RecordKey authenticates the decision records sysgate writes into the
	// bundle (Policy.RecordKey); nil: a record already in the bundle is
	// never kept, since anyone could have written it.
	RecordKey []byte

	dir      *os.File // O_PATH descriptor of the directory
	mode     os.FileMode
	uid, gid int
}

// ConfigPath is the bundle's config.json, for messages.
func (b *Bundle) ConfigPath() string { return filepath.Join(b.Dir, "config.json") }

// ReadBundle reads and parses dir/config.json, dir resolved from the
// working directory. Close releases it.
func ReadBundle(dir string) (*Bundle, error) { return OpenBundle(nil, dir) }

// OpenBundle resolves dir once, relative to the directory at (nil: the
// working directory), exactly as a runtime's chdir(dir) from there would,
// and reads its config.json. config.json must be a regular file, not a
// symbolic link: it is opened without following links and without
// blocking, so that a FIFO cannot hang the create.
func OpenBundle(at *os.File, dir string) (*Bundle, error) {
	atFD := unix.AT_FDCWD
	if at != nil {
		atFD = int(at.Fd())
	}
	if dir == "" {
		dir = "."
	}
	fd, err := unix.Openat(atFD, dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, missingIsBadInput(fmt.Errorf("bundle %s: %w", dir, err))
	}
	b := &Bundle{dir: os.NewFile(uintptr(fd), dir)}
	if b.Dir, err = os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd)); err != nil {
		b.Close()
		return nil, fmt.Errorf("bundle %s: %w", dir, err)
	}
	if err := b.read(); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// Close releases the directory's descriptor.
func (b *Bundle) Close() error {
	if b == nil || b.dir == nil {
		return nil
	}
	return b.dir.Close()
}

func (b *Bundle) dirFD() int { return int(b.dir.Fd()) }

func (b *Bundle) read() error {
	fd, err := unix.Openat(b.dirFD(), "config.json", unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ELOOP) {
		return refusal.Errorf(refusal.EscapingPath, "%s is a symbolic link; a bundle's config.json must be a regular file", b.ConfigPath())
	}
	if err != nil {
		return missingIsBadInput(fmt.Errorf("bundle %s: %w", b.Dir, &os.PathError{Op: "open", Path: b.ConfigPath(), Err: err}))
	}
	f := os.NewFile(uintptr(fd), b.ConfigPath())
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("%s: %w", b.ConfigPath(), err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return refusal.Errorf(refusal.EscapingPath, "%s is not a regular file", b.ConfigPath())
	}
	b.mode, b.uid, b.gid = os.FileMode(st.Mode&0o7777), int(st.Uid), int(st.Gid)
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxConfigSize+1)); err != nil {
		return fmt.Errorf("reading %s: %w", b.ConfigPath(), err)
	}
	if buf.Len() > MaxConfigSize {
		return refusal.Errorf(refusal.BadInput, "%s is larger than %d bytes", b.ConfigPath(), MaxConfigSize)
	}
	b.Raw = buf.Bytes()
	var s specs.Spec
	if err := json.Unmarshal(b.Raw, &s); err != nil {
		return refusal.Errorf(refusal.BadInput, "%s is not a valid OCI runtime config: %w", b.ConfigPath(), jsonError(b.Raw, err))
	}
	b.Spec = &s
	return nil
}

// Applied is what a create puts into a bundle: the decided profile and the
// record of where it came from.
type Applied struct {
	ContainerID string
	// Profile is the decided profile; nil runs the container unconfined.
	Profile *specs.LinuxSeccomp
	// FromBundle: the decision is the profile the bundle already has, so
	// a record an earlier create left for exactly this profile is kept.
	FromBundle bool
	// KeepBytes: the bundle's own linux.seccomp is kept byte for byte
	// (FromBundle, not audited, not replaced by a node file).
	KeepBytes bool
	Record    Record
}

// Record is the decision annotation's content.
type Record struct {
	Source string       `json:"source"`
	Type   profile.Type `json:"type"`
	Ref    string       `json:"ref,omitempty"`
	Digest string       `json:"digest,omitempty"`
	Audit  bool         `json:"audit,omitempty"`
	// Via is "nri" when the NRI plugin decided at the CRI's create, before
	// the bundle existed; a runtime handler then keeps its decision.
	Via string `json:"via,omitempty"`
	// MAC is HMAC-SHA256 under the node's record key of the container id
	// and the fields above: only records sysgate wrote for this container
	// verify.
	MAC string `json:"mac,omitempty"`
}

// Signed is r with its MAC for the container under key (none when key is nil).
func (r Record) Signed(key []byte, containerID string) Record {
	r.MAC = r.mac(key, containerID)
	return r
}

func (r Record) mac(key []byte, containerID string) string {
	if key == nil {
		return ""
	}
	r.MAC = ""
	body, _ := json.Marshal(r)
	h := hmac.New(sha256.New, key)
	h.Write([]byte(containerID))
	h.Write([]byte{0})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Rendered returns config.json with the decision applied: linux.seccomp set
// (or removed when unconfined) and the decision recorded. With bpf (for
// crun), the compiled program goes in AnnotationCrunBPF; without, any such
// annotation the client set is removed, since crun would load it in place
// of the decided profile. Fields sysgate does not know are carried over as
// they are. changed is false when the result equals the input, e.g. on a
// second create.
func (b *Bundle) Rendered(a Applied, bpf []byte) (out []byte, changed bool, err error) {
	// What the decision read (capabilities, annotations, the profile) must
	// be what every runtime reads: no member twice at the top, in process
	// or in linux.
	top, err := jsonobj.ScanNested(b.Raw, b.ConfigPath(), []string{"process", "linux"}, "linux", "annotations")
	if err != nil {
		return nil, false, refusal.New(refusal.BadInput, err)
	}
	var edits []jsonobj.Edit
	if !a.KeepBytes {
		linux, err := b.renderedLinux(a.Profile, top)
		if err != nil {
			return nil, false, err
		}
		edits = append(edits, jsonobj.Edit{Name: "linux", Value: linux})
	}
	// Otherwise the rendered profile is kept byte for byte: re-encoding
	// would lose distinctions such as "flags": [] versus no flags at all.
	// (A ProfilePath means the node's runtime_default file replaced it.)

	annotations := map[string]string{}
	for k, v := range b.Spec.Annotations {
		annotations[k] = v
	}
	if !b.alreadyRecorded(a) {
		record, err := json.Marshal(a.Record.Signed(b.RecordKey, a.ContainerID))
		if err != nil {
			return nil, false, err
		}
		annotations[AnnotationDecision] = string(record)
	}
	if bpf != nil {
		annotations[AnnotationCrunBPF] = base64.StdEncoding.EncodeToString(bpf)
	} else {
		delete(annotations, AnnotationCrunBPF)
	}
	// crun's own seccomp extensions would hand the container's listener fd
	// to another process or load a shared library into the notification
	// path: nothing the decided profile says, so never the client's.
	for _, key := range crunSeccompAnnotations {
		delete(annotations, key)
	}
	if !maps.Equal(annotations, b.Spec.Annotations) {
		value, err := json.Marshal(annotations)
		if err != nil {
			return nil, false, err
		}
		edits = append(edits, jsonobj.Edit{Name: "annotations", Value: value})
	}
	if len(edits) == 0 {
		return b.Raw, false, nil
	}
	if out, err = jsonobj.WithMembers(b.Raw, top, edits...); err != nil {
		return nil, false, err
	}
	return out, !bytes.Equal(out, b.Raw), nil
}

// renderedLinux is the linux object with the decided profile: set, or
// removed when unconfined. Only the seccomp member is spliced: every other
// member keeps its bytes and its place, so that a runtime reads them as
// before (runc keeps the last of two members that differ only in case, and
// re-encoding would reorder them).
func (b *Bundle) renderedLinux(decided *specs.LinuxSeccomp, top jsonobj.Members) ([]byte, error) {
	raw := []byte("{}")
	if value, ok := top.Value(b.Raw, "linux"); ok && string(value) != "null" {
		raw = value
	}
	linux, err := jsonobj.Scan(raw, b.ConfigPath()+": linux", "seccomp")
	if err != nil {
		return nil, refusal.New(refusal.BadInput, err)
	}
	edit := jsonobj.Edit{Name: "seccomp"}
	if decided != nil {
		if edit.Value, err = json.Marshal(decided); err != nil {
			return nil, err
		}
	} else if _, ok := linux.Value(raw, "seccomp"); !ok {
		return raw, nil
	}
	return jsonobj.WithMembers(raw, linux, edit)
}

// alreadyRecorded: a previous create recorded a decision for exactly this
// profile; keep that record (it says where the profile came from) instead
// of the spec row that now sees it in the bundle. Only a record that
// verifies under the node's key for this container is kept: a client could
// otherwise pre-set one that names a source its profile never came from.
func (b *Bundle) alreadyRecorded(a Applied) bool {
	raw, ok := b.Spec.Annotations[AnnotationDecision]
	if !ok || !a.FromBundle || b.RecordKey == nil {
		return false
	}
	var prev Record
	if json.Unmarshal([]byte(raw), &prev) != nil || prev.MAC == "" {
		return false
	}
	return hmac.Equal([]byte(prev.MAC), []byte(prev.mac(b.RecordKey, a.ContainerID))) && prev.Digest == a.Record.Digest && prev.Audit == a.Record.Audit
}

// VerifiedRecord is the decision record in annotations when it verifies
// under key for the container: sysgate wrote it, for this container.
func VerifiedRecord(annotations map[string]string, key []byte, containerID string) (Record, bool) {
	raw, ok := annotations[AnnotationDecision]
	if !ok || key == nil {
		return Record{}, false
	}
	var r Record
	if json.Unmarshal([]byte(raw), &r) != nil || r.MAC == "" {
		return Record{}, false
	}
	if !hmac.Equal([]byte(r.MAC), []byte(r.mac(key, containerID))) {
		return Record{}, false
	}
	return r, true
}

// WriteConfig replaces config.json atomically, through the directory's
// descriptor: a temporary file in the same directory, with the original's
// mode, owner and group, renamed over it, so that a reader sees the old file
// or the new one, never a torn one. There is no fsync: containerd, CRI-O and
// podman write config.json without one, a bundle does not outlive its
// container across a crash, and the two fsyncs were a third of create's
// work (docs/design.md, "Rewriting config.json by splicing").
func (b *Bundle) WriteConfig(data []byte) error {
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := ".config.json.sysgate-" + hex.EncodeToString(rnd[:])
	fd, err := unix.Openat(b.dirFD(), tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("rewriting %s: %w", b.ConfigPath(), err)
	}
	f := os.NewFile(uintptr(fd), tmp)
	_, err = f.Write(data)
	if err == nil {
		err = unix.Fchown(fd, b.uid, b.gid)
	}
	if err == nil {
		err = unix.Fchmod(fd, uint32(b.mode))
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = unix.Renameat(b.dirFD(), tmp, b.dirFD(), "config.json")
	}
	if err != nil {
		unix.Unlinkat(b.dirFD(), tmp, 0)
		return fmt.Errorf("rewriting %s: %w", b.ConfigPath(), err)
	}
	return nil
}

// jsonError places a decoding error in the file, e.g. "line 3, column 7".
func jsonError(data []byte, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		// Offset counts the offending byte (as in firstValue), except at
		// the end of the input, where there is none.
		off := int(syntax.Offset)
		if syntax.Error() != "unexpected end of JSON input" {
			off--
		}
		return fmt.Errorf("%s: %v", jsonobj.Position(data, off), err)
	case errors.As(err, &typ):
		return fmt.Errorf("%s: field %s: cannot use %s as %s", jsonobj.Position(data, int(typ.Offset)), typ.Field, typ.Value, typ.Type)
	}
	return err
}

// missingIsBadInput: a bundle or config.json that is not there is the
// caller's mistake; any other failure to open one is the node's.
func missingIsBadInput(err error) error {
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return refusal.New(refusal.BadInput, err)
	}
	return err
}
