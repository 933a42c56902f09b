package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/spec/internal/jsonobj"
)

// MaxSize bounds a profile file. containerd's default profile is about
// 20 KB; anything near a megabyte is a mistake or an attack, and refusing it
// early keeps a bad file from costing the shim memory on every container
// start.
const MaxSize = 1 << 20

// ParseError says where a profile is wrong: File is the profile's path
// (set by Load), Path the JSON path inside it, such as
// "syscalls[3].args[0].index", and Problem what is wrong there.
type ParseError struct {
	File    string
	Path    string
	Problem string

	// cause keeps the underlying error (an fs.PathError, say) reachable
	// through errors.Is without repeating it in the message.
	cause error
}

func (e *ParseError) Error() string {
	parts := make([]string, 0, 3)
	for _, s := range []string{e.File, e.Path, e.Problem} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ": ")
}

func (e *ParseError) Unwrap() error { return e.cause }

// Load reads and parses the profile at path; a profile with Docker's
// conditional rules is an error (LoadTemplate reads it).
func Load(path string) (*specs.LinuxSeccomp, error) {
	t, err := LoadTemplate(path)
	if err != nil {
		return nil, err
	}
	p, err := t.Unconditional()
	if err != nil {
		err.(*ParseError).File = path
		return nil, err
	}
	return p, nil
}

// LoadTemplate reads and parses the profile at path, conditional rules
// kept. It never reads more than MaxSize+1 bytes, so a huge file is
// refused without being read.
func LoadTemplate(path string) (*Template, error) {
	// O_NONBLOCK: a FIFO in place of the profile must not hang create.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, &ParseError{File: path, Problem: "cannot open: " + pathErrorText(err), cause: err}
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && !st.Mode().IsRegular() {
		return nil, &ParseError{File: path, Problem: "not a regular file"}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, &ParseError{File: path, Problem: "cannot read: " + pathErrorText(err), cause: err}
	}
	t, err := ParseTemplate(data)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			pe.File = path
		}
		return nil, err
	}
	return t, nil
}

// pathErrorText drops the path that fs.PathError repeats, since ParseError
// already names the file.
func pathErrorText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Parse parses an OCI/Docker JSON seccomp profile strictly (see the
// package documentation) and accepts the Docker-format extensions that real
// Localhost profiles carry:
//
//   - "comment" on any object is ignored;
//   - a syscall rule's legacy "name" becomes its "names";
//   - "archMap" ([{architecture, subArchitectures}]) is expanded into
//     "architectures" when "architectures" is absent or empty. Like Docker,
//     which keeps only the entry for the host's architecture, only entries
//     whose architecture is one sysgate compiles for (the x86 family) are
//     used, each bringing its sub-architectures; the result is de-duplicated.
//     When "architectures" is given it wins, and archMap only adds the
//     sub-architectures of the architectures it lists.
//
// Docker's "includes"/"excludes" conditional rules are refused by Parse
// unless empty (ignoring them would silently change the filter, which is
// what runc and containerd do); ParseTemplate keeps them for Render.
//
// An absent "flags" gives nil Flags and "flags": [] gives an empty, non-nil
// slice, because the compiler reads nil as "the runtime's default flags".
// Note that json.Marshal of a specs.LinuxSeccomp cannot keep that
// distinction: its Flags field is omitempty.
//
// Errors are *ParseError. Parse does not check values (actions,
// architectures, syscall names): Validate does.
func Parse(data []byte) (*specs.LinuxSeccomp, error) {
	t, err := ParseTemplate(data)
	if err != nil {
		return nil, err
	}
	return t.Unconditional()
}

// ParseTemplate is Parse for a profile that may carry Docker's conditional
// rules: they are kept, and Render decides them for a container.
func ParseTemplate(data []byte) (*Template, error) {
	if len(data) > MaxSize {
		return nil, &ParseError{Problem: fmt.Sprintf(
			"the profile is larger than the %d-byte (1 MiB) limit; a seccomp profile is a few tens of KB, check that this is the right file",
			MaxSize)}
	}
	if len(bytes.Trim(data, jsonSpace)) == 0 {
		return nil, &ParseError{Problem: "the profile is empty; it must be a JSON object such as {\"defaultAction\": \"SCMP_ACT_ERRNO\", ...}"}
	}
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		return nil, &ParseError{Problem: "the profile starts with a UTF-8 byte-order mark, which JSON does not allow; save the file without it"}
	}
	if off, ok := invalidUTF8(data); ok {
		return nil, &ParseError{Problem: fmt.Sprintf(
			"invalid UTF-8 at %s; a profile must be UTF-8 text", jsonobj.Position(data, off))}
	}
	raw, err := firstValue(data)
	if err != nil {
		return nil, err
	}
	root, err := buildTree(raw)
	if err != nil {
		return nil, err
	}
	if root.kind != kindObject {
		return nil, &ParseError{Problem: "the profile must be a JSON object, got " + root.describe()}
	}
	if err := checkObject(root, "", profileSchema); err != nil {
		return nil, err
	}
	// The walk above accepted only exact, unique field names with the right
	// types, so the standard decoder (which would have matched names case
	// insensitively and let duplicates overwrite each other) now decodes
	// exactly what was checked.
	var doc dockerProfile
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, &ParseError{Problem: "internal error: a checked profile did not decode: " + err.Error()}
	}
	if err := doc.checkErrnoNames(); err != nil {
		return nil, err
	}
	return doc.template(), nil
}

// jsonSpace is the whitespace JSON allows between tokens; bytes.TrimSpace
// would also trim Unicode spaces that JSON does not.
const jsonSpace = " \t\r\n"

func invalidUTF8(data []byte) (int, bool) {
	for off := 0; off < len(data); {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size == 1 {
			return off, true
		}
		off += size
	}
	return 0, false
}

// firstValue checks the JSON syntax of the first value in data and returns
// its bytes, refusing anything but whitespace after it: a second object, or
// the tail of a botched edit, must not be silently ignored.
func firstValue(data []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			// Offset counts the offending byte.
			return nil, &ParseError{Problem: fmt.Sprintf("invalid JSON at %s: %s",
				jsonobj.Position(data, int(se.Offset)-1), se.Error())}
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, &ParseError{Problem: fmt.Sprintf(
				"invalid JSON at %s: unexpected end of input; an object, array or string is not closed",
				jsonobj.Position(data, len(data)))}
		default:
			return nil, &ParseError{Problem: "invalid JSON: " + err.Error()}
		}
	}
	end := int(dec.InputOffset())
	rest := bytes.TrimLeft(data[end:], jsonSpace)
	if len(rest) > 0 {
		return nil, &ParseError{Problem: fmt.Sprintf(
			"trailing data after the JSON object at %s; a profile is exactly one object, remove what follows it",
			jsonobj.Position(data, len(data)-len(rest)))}
	}
	return raw, nil
}

// The generic tree keeps what a map would lose: the document order of
// fields (so the first problem reported is the first in the file) and
// duplicate field names.

type jsonKind int

const (
	kindNull jsonKind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

type node struct {
	kind    jsonKind
	text    string // a string's value or a number's literal
	members []member
	elems   []*node
}

type member struct {
	key   string
	value *node
}

func (n *node) describe() string {
	switch n.kind {
	case kindNull:
		return "null"
	case kindBool:
		return "boolean"
	case kindNumber:
		return "number " + clip(n.text)
	case kindString:
		return "string"
	case kindArray:
		return "array"
	default:
		return "object"
	}
}

// clip keeps messages short whatever the input holds.
func clip(s string) string {
	const limit = 40
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func buildTree(raw json.RawMessage) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	n, err := readNode(dec)
	if err != nil {
		// firstValue has already checked the syntax.
		return nil, &ParseError{Problem: "internal error: reading checked JSON: " + err.Error()}
	}
	return n, nil
}

func readNode(dec *json.Decoder) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return &node{kind: kindNull}, nil
	case bool:
		return &node{kind: kindBool}, nil
	case json.Number:
		return &node{kind: kindNumber, text: string(t)}, nil
	case string:
		return &node{kind: kindString, text: t}, nil
	case json.Delim:
		n := &node{kind: kindArray}
		if t == '{' {
			n.kind = kindObject
		}
		for dec.More() {
			if n.kind == kindObject {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := readNode(dec)
				if err != nil {
					return nil, err
				}
				n.members = append(n.members, member{key: kt.(string), value: v})
			} else {
				v, err := readNode(dec)
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, v)
			}
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// The schema lists, per object, the fields a profile may carry. Its names
// are the JSON names of specs.LinuxSeccomp and friends plus the Docker
// extensions; "known fields" in error messages are read from it.

type valueKind int

const (
	// A string. null is refused: the decoder would turn it into "" without a
	// trace.
	vString valueKind = iota
	// A non-negative integer that fits a Go uint (index, errnoRet) or
	// uint64 (value, valueTwo). errnoRet and defaultErrnoRet are pointers in
	// specs, so null means absent there.
	vUint
	vUint64
	vOptUint
	// An array of strings, or null (absent).
	vStrings
	// An array of objects of elem's shape, or null (absent).
	vObjects
	// One object of elem's shape, or null (absent): Docker's
	// includes/excludes.
	vObject
)

type field struct {
	name string
	kind valueKind
	elem *schema
	// hidden fields are accepted but not advertised in "known fields":
	// legacy spellings and refused Docker rules.
	hidden bool
	// conflicts names a sibling field that must not also be present.
	conflicts string
}

type schema struct {
	fields []field
}

var argSchema = &schema{fields: []field{
	{name: "index", kind: vUint},
	{name: "value", kind: vUint64},
	{name: "valueTwo", kind: vUint64},
	{name: "op", kind: vString},
	{name: "comment", kind: vString},
}}

var syscallSchema = &schema{fields: []field{
	{name: "names", kind: vStrings, conflicts: "name"},
	{name: "action", kind: vString},
	{name: "errnoRet", kind: vOptUint},
	{name: "args", kind: vObjects, elem: argSchema},
	{name: "comment", kind: vString},
	{name: "name", kind: vString, hidden: true, conflicts: "names"},
	{name: "errno", kind: vString, hidden: true},
	{name: "includes", kind: vObject, elem: conditionSchema, hidden: true},
	{name: "excludes", kind: vObject, elem: conditionSchema, hidden: true},
}}

// conditionSchema is Docker's Filter (moby/profiles/seccomp): a rule is
// kept or dropped by the container's capabilities, the node's
// architecture and its kernel.
var conditionSchema = &schema{fields: []field{
	{name: "caps", kind: vStrings},
	{name: "arches", kind: vStrings},
	{name: "minKernel", kind: vString},
	{name: "comment", kind: vString},
}}

var archMapSchema = &schema{fields: []field{
	{name: "architecture", kind: vString},
	{name: "subArchitectures", kind: vStrings},
	{name: "comment", kind: vString},
}}

var profileSchema = &schema{fields: []field{
	{name: "defaultAction", kind: vString},
	{name: "defaultErrnoRet", kind: vOptUint},
	{name: "defaultErrno", kind: vString, hidden: true},
	{name: "architectures", kind: vStrings},
	{name: "archMap", kind: vObjects, elem: archMapSchema},
	{name: "flags", kind: vStrings},
	{name: "listenerPath", kind: vString},
	{name: "listenerMetadata", kind: vString},
	{name: "syscalls", kind: vObjects, elem: syscallSchema},
	{name: "comment", kind: vString},
}}

func (s *schema) lookup(name string) int {
	for i, f := range s.fields {
		if f.name == name {
			return i
		}
	}
	return -1
}

func (s *schema) known() string {
	var names []string
	for _, f := range s.fields {
		if !f.hidden {
			names = append(names, f.name)
		}
	}
	return strings.Join(names, ", ")
}

func joinKey(path, key string) string {
	if !isIdentifier(key) {
		return path + "[" + strconv.Quote(clip(key)) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func joinIndex(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func isIdentifier(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, r := range s {
		if r != '_' && !('a' <= r && r <= 'z') && !('A' <= r && r <= 'Z') && (i == 0 || !('0' <= r && r <= '9')) {
			return false
		}
	}
	return true
}

func checkObject(n *node, path string, s *schema) error {
	if n.kind != kindObject {
		return &ParseError{Path: path, Problem: "expected an object, got " + n.describe()}
	}
	seen := make([]bool, len(s.fields))
	for _, m := range n.members {
		p := joinKey(path, m.key)
		i := s.lookup(m.key)
		if i < 0 {
			return &ParseError{Path: p, Problem: "unknown field; known fields: " + s.known()}
		}
		if seen[i] {
			return &ParseError{Path: p, Problem: "field given twice; JSON decoders disagree on which one wins, keep only one"}
		}
		seen[i] = true
		f := s.fields[i]
		if f.conflicts != "" {
			if j := s.lookup(f.conflicts); seen[j] {
				return &ParseError{Path: p, Problem: fmt.Sprintf(
					"cannot be combined with %q; list every syscall in \"names\"", f.conflicts)}
			}
		}
		if err := checkValue(m.value, p, f); err != nil {
			return err
		}
	}
	return nil
}

func checkValue(n *node, path string, f field) error {
	switch f.kind {
	case vString:
		return checkString(n, path)
	case vUint:
		return checkUint(n, path, strconv.IntSize)
	case vUint64:
		return checkUint(n, path, 64)
	case vOptUint:
		if n.kind == kindNull {
			return nil
		}
		return checkUint(n, path, strconv.IntSize)
	case vStrings:
		if n.kind == kindNull {
			return nil
		}
		if n.kind != kindArray {
			return &ParseError{Path: path, Problem: "expected an array of strings, got " + n.describe()}
		}
		for i, e := range n.elems {
			if err := checkString(e, joinIndex(path, i)); err != nil {
				return err
			}
		}
		return nil
	case vObjects:
		if n.kind == kindNull {
			return nil
		}
		if n.kind != kindArray {
			return &ParseError{Path: path, Problem: "expected an array of objects, got " + n.describe()}
		}
		for i, e := range n.elems {
			if err := checkObject(e, joinIndex(path, i), f.elem); err != nil {
				return err
			}
		}
		return nil
	case vObject:
		if n.kind == kindNull {
			return nil
		}
		if n.kind != kindObject {
			return &ParseError{Path: path, Problem: "expected an object, got " + n.describe()}
		}
		if err := checkObject(n, path, f.elem); err != nil {
			return err
		}
		if f.elem == conditionSchema {
			return checkMinKernel(n, path)
		}
		return nil
	}
	return &ParseError{Path: path, Problem: "internal error: no rule for this field"}
}

func checkString(n *node, path string) error {
	if n.kind != kindString {
		return &ParseError{Path: path, Problem: "expected a string, got " + n.describe()}
	}
	// The kernel, libseccomp and the runtimes all use C strings: "mkdir\x00x"
	// would be read as "mkdir" by some and refused by others.
	if strings.IndexByte(n.text, 0) >= 0 {
		return &ParseError{Path: path, Problem: fmt.Sprintf("%s contains a NUL byte; remove it", strconv.Quote(clip(n.text)))}
	}
	return nil
}

func checkUint(n *node, path string, bits int) error {
	if n.kind != kindNumber {
		return &ParseError{Path: path, Problem: "expected a non-negative integer, got " + n.describe()}
	}
	// Refuse 1.0, 1e3 and -0 rather than guess: the standard decoder refuses
	// them for unsigned fields too, with a message that names no path.
	if strings.ContainsAny(n.text, ".eE-") {
		return &ParseError{Path: path, Problem: "expected a non-negative integer, got " + n.describe()}
	}
	if _, err := strconv.ParseUint(n.text, 10, bits); err != nil {
		return &ParseError{Path: path, Problem: fmt.Sprintf(
			"expected a non-negative integer no larger than %d, got %s", ^uint64(0)>>(64-bits), n.describe())}
	}
	return nil
}

// dockerProfile is the superset of specs.LinuxSeccomp that Parse
// accepts; comments and empty conditions are checked by the walk and then
// dropped here.
type dockerProfile struct {
	DefaultAction    specs.LinuxSeccompAction `json:"defaultAction"`
	DefaultErrnoRet  *uint                    `json:"defaultErrnoRet"`
	DefaultErrno     string                   `json:"defaultErrno"`
	Architectures    []specs.Arch             `json:"architectures"`
	ArchMap          []dockerArchMap          `json:"archMap"`
	Flags            []specs.LinuxSeccompFlag `json:"flags"`
	ListenerPath     string                   `json:"listenerPath"`
	ListenerMetadata string                   `json:"listenerMetadata"`
	Syscalls         []dockerSyscall          `json:"syscalls"`
}

type dockerArchMap struct {
	Architecture     specs.Arch   `json:"architecture"`
	SubArchitectures []specs.Arch `json:"subArchitectures"`
}

type dockerSyscall struct {
	Name     *string                  `json:"name"`
	Names    []string                 `json:"names"`
	Action   specs.LinuxSeccompAction `json:"action"`
	ErrnoRet *uint                    `json:"errnoRet"`
	Errno    string                   `json:"errno"`
	Args     []specs.LinuxSeccompArg  `json:"args"`
	Includes *Condition               `json:"includes"`
	Excludes *Condition               `json:"excludes"`
}

func (d *dockerProfile) template() *Template {
	t := &Template{base: specs.LinuxSeccomp{
		DefaultAction:    d.DefaultAction,
		DefaultErrnoRet:  d.DefaultErrnoRet,
		Architectures:    expandArchMap(d.Architectures, d.ArchMap),
		Flags:            d.Flags,
		ListenerPath:     d.ListenerPath,
		ListenerMetadata: d.ListenerMetadata,
	}, hasRules: d.Syscalls != nil}
	for _, s := range d.Syscalls {
		names := s.Names
		if s.Name != nil {
			names = []string{*s.Name}
		}
		t.rules = append(t.rules, conditionalRule{
			rule:     specs.LinuxSyscall{Names: names, Action: s.Action, ErrnoRet: s.ErrnoRet, Args: s.Args},
			includes: s.Includes.orNil(), excludes: s.Excludes.orNil(),
		})
	}
	return t
}

func expandArchMap(arches []specs.Arch, archMap []dockerArchMap) []specs.Arch {
	if len(archMap) == 0 {
		return arches
	}
	if len(arches) == 0 {
		var out []specs.Arch
		for _, m := range archMap {
			if !filter.IsNodeArch(m.Architecture) {
				continue
			}
			out = appendArch(out, m.Architecture)
			for _, sub := range m.SubArchitectures {
				out = appendArch(out, sub)
			}
		}
		if out == nil {
			return arches
		}
		return out
	}
	out := append([]specs.Arch(nil), arches...)
	for _, m := range archMap {
		if !slices.Contains(arches, m.Architecture) {
			continue
		}
		for _, sub := range m.SubArchitectures {
			out = appendArch(out, sub)
		}
	}
	return out
}

func appendArch(list []specs.Arch, a specs.Arch) []specs.Arch {
	if slices.Contains(list, a) {
		return list
	}
	return append(list, a)
}
