package spec

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// AnnotationDecision records in the bundle what sysgate applied, so that a
// second create on the same bundle changes nothing and `runc state` /
// `crictl inspect` show the decision.
const AnnotationDecision = "io.github.sysgate.seccomp"

// AnnotationCrunBPF hands crun a compiled filter: crun loads it instead of
// compiling linux.seccomp itself.
const AnnotationCrunBPF = "run.oci.seccomp_bpf_data"

// MaxConfigSize bounds config.json; real ones are tens of KB.
const MaxConfigSize = 16 << 20

// Bundle is an OCI bundle's config.json: the bytes as received, which are
// written back untouched on any error, and the parsed spec.
type Bundle struct {
	Dir  string
	Raw  []byte
	Spec *specs.Spec
}

// ConfigPath is the bundle's config.json.
func (b *Bundle) ConfigPath() string { return filepath.Join(b.Dir, "config.json") }

// ReadBundle reads and parses dir/config.json.
func ReadBundle(dir string) (*Bundle, error) {
	b := &Bundle{Dir: dir}
	f, err := os.Open(b.ConfigPath())
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", dir, err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxConfigSize+1)); err != nil {
		return nil, fmt.Errorf("reading %s: %w", b.ConfigPath(), err)
	}
	if buf.Len() > MaxConfigSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", b.ConfigPath(), MaxConfigSize)
	}
	b.Raw = buf.Bytes()
	var s specs.Spec
	if err := json.Unmarshal(b.Raw, &s); err != nil {
		return nil, fmt.Errorf("%s is not a valid OCI runtime config: %w", b.ConfigPath(), jsonError(b.Raw, err))
	}
	b.Spec = &s
	return b, nil
}

// recordedDecision is the annotation's content.
type recordedDecision struct {
	Source string      `json:"source"`
	Type   ProfileType `json:"type"`
	Ref    string      `json:"ref,omitempty"`
	Digest string      `json:"digest,omitempty"`
	Audit  bool        `json:"audit,omitempty"`
}

// Rendered returns config.json with the decision applied: linux.seccomp set
// (or removed when unconfined) and the decision recorded. With bpf (for
// crun), the compiled program goes in AnnotationCrunBPF; without, any such
// annotation the client set is removed, since crun would load it in place
// of the decided profile. Fields sysgate does not know are carried over as
// they are. changed is false when the result equals the input, e.g. on a
// second create.
func (b *Bundle) Rendered(d Decision, bpf []byte) (out []byte, changed bool, err error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b.Raw, &top); err != nil {
		return nil, false, fmt.Errorf("%s: %w", b.ConfigPath(), err)
	}
	var linux map[string]json.RawMessage
	if raw, ok := top["linux"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &linux); err != nil {
			return nil, false, fmt.Errorf("%s: linux: %w", b.ConfigPath(), err)
		}
	}
	if linux == nil {
		linux = map[string]json.RawMessage{}
	}
	switch {
	case d.Profile == nil:
		delete(linux, "seccomp")
	case d.Source == "spec" && !d.Audit && d.ProfilePath == "":
		// Keep the rendered profile byte for byte: re-encoding would lose
		// distinctions such as "flags": [] versus no flags at all. (A
		// ProfilePath means the node's runtime_default file replaced it.)
	default:
		if linux["seccomp"], err = json.Marshal(d.Profile); err != nil {
			return nil, false, err
		}
	}
	if top["linux"], err = json.Marshal(linux); err != nil {
		return nil, false, err
	}

	annotations := map[string]string{}
	for k, v := range b.Spec.Annotations {
		annotations[k] = v
	}
	if !b.alreadyRecorded(d) {
		record, err := json.Marshal(recordedDecision{Source: d.Source, Type: d.Type, Ref: d.Ref, Digest: d.Digest, Audit: d.Audit})
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
	if top["annotations"], err = json.Marshal(annotations); err != nil {
		return nil, false, err
	}
	if out, err = json.Marshal(top); err != nil {
		return nil, false, err
	}
	return out, !bytes.Equal(out, b.Raw), nil
}

// alreadyRecorded: a previous create recorded a decision for exactly this
// profile; keep that record (it says where the profile came from) instead
// of the spec row that now sees it in the bundle.
func (b *Bundle) alreadyRecorded(d Decision) bool {
	raw, ok := b.Spec.Annotations[AnnotationDecision]
	if !ok || d.Source != "spec" {
		return false
	}
	var prev recordedDecision
	return json.Unmarshal([]byte(raw), &prev) == nil && prev.Digest == d.Digest && prev.Audit == d.Audit
}

// WriteConfig replaces config.json atomically: a temporary file in the same
// directory, fsync, rename, fsync of the directory. A crash leaves either
// the old or the new file, never a torn one.
func (b *Bundle) WriteConfig(data []byte) error {
	path := b.ConfigPath()
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(b.Dir, ".config.json.sysgate-*")
	if err != nil {
		return fmt.Errorf("rewriting %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("rewriting %s: %w", path, err)
	}
	if dir, err := os.Open(b.Dir); err == nil {
		dir.Sync()
		dir.Close()
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
		return fmt.Errorf("%s: %v", position(data, off), err)
	case errors.As(err, &typ):
		return fmt.Errorf("%s: field %s: cannot use %s as %s", position(data, int(typ.Offset)), typ.Field, typ.Value, typ.Type)
	}
	return err
}
