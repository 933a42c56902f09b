package jsonobj

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Members locates the members of the JSON object doc: where each
// member's value starts and ends, and where the object's closing brace is.
// It lets sysgate replace one member of config.json and leave every other
// byte as the caller wrote it, instead of decoding and re-encoding 10-20 KB
// of JSON on every container start.
//
// Go's decoder (runc's, and sysgate's own) matches member names
// case-insensitively and takes the last of duplicates; crun matches exactly.
// A document the two could read differently is refused: a member given
// twice, in the same case or not ("namespaces" and "Namespaces"), or one of
// the names sysgate edits written in another case.
type Members struct {
	spans   map[string]Span
	closing int // offset of the closing '}'
	empty   bool
}

// Span is where a member's value is, and where the member begins: the
// end of the previous member (its comma included) or of the opening brace.
type Span struct {
	memberStart, start, end int
	first                   bool
}

// Value is the member's value as written in doc, the document m was
// scanned from.
func (m Members) Value(doc []byte, name string) ([]byte, bool) {
	span, ok := m.spans[name]
	if !ok {
		return nil, false
	}
	return doc[span.start:span.end], true
}

// Scan locates the members of the object doc; what names it in errors, and
// edited are the member names the caller will edit, refused in another case.
func Scan(doc []byte, what string, edited ...string) (Members, error) {
	return ScanNested(doc, what, nil, edited...)
}

// ScanNested is Scan that also refuses duplicate members inside
// the members named in nested (when they are objects), in the same pass:
// config.json's linux member holds the whole profile, and scanning it a
// second time was a quarter of create's work.
func ScanNested(doc []byte, what string, nested []string, edited ...string) (Members, error) {
	if json.Valid(doc) {
		return scanValid(doc, what, nested, edited)
	}
	return scanWithDecoder(doc, what, nested, edited)
}

// scanWithDecoder is ScanNested through encoding/json's tokens: it names
// what is wrong in a document that is not valid JSON, and FuzzScanNested
// holds scanValid to its answers on valid ones.
func scanWithDecoder(doc []byte, what string, nested, edited []string) (Members, error) {
	m := Members{spans: map[string]Span{}}
	dec := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return m, fmt.Errorf("%s is not a JSON object", what)
	}
	m.empty = !dec.More()
	folded := names{}
	for dec.More() {
		memberStart := int(dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return m, fmt.Errorf("%s: %w", what, err)
		}
		name := tok.(string)
		if err := folded.add(what, name); err != nil {
			return m, err
		}
		if err := checkEdited(what, name, edited); err != nil {
			return m, err
		}
		if slices.Contains(nested, name) && nextByte(doc, int(dec.InputOffset())) == '{' {
			start, end, err := checkMembers(dec, doc, what+": "+name)
			if err != nil {
				return m, err
			}
			m.spans[name] = Span{memberStart: memberStart, start: start, end: end, first: len(m.spans) == 0}
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return m, fmt.Errorf("%s: member %q: %w", what, name, err)
		}
		end := int(dec.InputOffset())
		m.spans[name] = Span{memberStart: memberStart, start: end - len(raw), end: end, first: len(m.spans) == 0}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return m, fmt.Errorf("%s: unterminated object", what)
	}
	m.closing = int(dec.InputOffset()) - 1
	return m, nil
}

// checkMembers reads the object the decoder is at, refusing duplicate
// members, and returns where it starts and ends in doc.
func checkMembers(dec *json.Decoder, doc []byte, what string) (start, end int, err error) {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return 0, 0, fmt.Errorf("%s is not a JSON object", what)
	}
	start = int(dec.InputOffset()) - 1
	seen := names{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", what, err)
		}
		if err := seen.add(what, tok.(string)); err != nil {
			return 0, 0, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return 0, 0, fmt.Errorf("%s: member %q: %w", what, tok, err)
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return 0, 0, fmt.Errorf("%s: unterminated object", what)
	}
	return start, int(dec.InputOffset()), nil
}

// checkEdited refuses a member whose name is one sysgate edits written in
// another case: crun would read it as another member than the edited one.
func checkEdited(what, name string, edited []string) error {
	for _, e := range edited {
		if strings.EqualFold(name, e) && name != e {
			return fmt.Errorf("%s has the member %q; write it as %q", what, name, e)
		}
	}
	return nil
}

// nextByte is the first byte at or after off that is neither white space
// nor the colon before a member's value.
func nextByte(doc []byte, off int) byte {
	for ; off < len(doc); off++ {
		switch doc[off] {
		case ' ', '\t', '\r', '\n', ':':
		default:
			return doc[off]
		}
	}
	return 0
}

// names are an object's member names by lower case, to refuse a member
// given twice in any case.
type names map[string]string

func (n names) add(what, name string) error {
	if prev, dup := n[strings.ToLower(name)]; dup {
		if prev == name {
			return fmt.Errorf("%s has the member %q twice, which runtimes read differently; keep one", what, name)
		}
		return fmt.Errorf("%s has the members %q and %q, which runc reads as one (the last) and crun as two; keep one", what, prev, name)
	}
	n[strings.ToLower(name)] = name
	return nil
}

// Edit sets one member's value; nil deletes the member.
type Edit struct {
	Name  string
	Value []byte
}

// WithMembers applies edits to the object doc, whose members are m. Edits
// are applied back to front so that the spans stay valid; new members go
// before the closing brace.
func WithMembers(doc []byte, m Members, edits ...Edit) ([]byte, error) {
	var added [][]byte
	type replacement struct {
		span  Span
		value []byte
	}
	var replaced []replacement
	for _, e := range edits {
		span, ok := m.spans[e.Name]
		switch {
		case ok && e.Value != nil:
			replaced = append(replaced, replacement{span, e.Value})
		case ok:
			replaced = append(replaced, replacement{deletion(doc, span), nil})
		case e.Value != nil:
			key, _ := json.Marshal(e.Name)
			added = append(added, append(append(key, ':'), e.Value...))
		}
	}
	// Back to front: later spans first.
	for i := 1; i < len(replaced); i++ {
		for j := i; j > 0 && replaced[j].span.start > replaced[j-1].span.start; j-- {
			replaced[j], replaced[j-1] = replaced[j-1], replaced[j]
		}
	}
	out := doc
	if len(added) > 0 {
		insert := bytes.Join(added, []byte{','})
		if !m.empty {
			insert = append([]byte{','}, insert...)
		}
		out = splice(out, m.closing, m.closing, insert)
	}
	for _, r := range replaced {
		out = splice(out, r.span.start, r.span.end, r.value)
	}
	return out, nil
}

// deletion is the span that removes a whole member: from the end of the
// previous one (taking its separating comma) to the end of this value; the
// first member takes the comma after it instead, if another follows.
func deletion(doc []byte, span Span) Span {
	d := Span{start: span.memberStart, end: span.end}
	if span.first {
		rest := bytes.TrimLeft(doc[span.end:], " \t\r\n")
		if len(rest) > 0 && rest[0] == ',' {
			d.end = len(doc) - len(rest) + 1
		}
	}
	return d
}

func splice(doc []byte, start, end int, value []byte) []byte {
	out := make([]byte, 0, len(doc)-(end-start)+len(value))
	out = append(out, doc[:start]...)
	out = append(out, value...)
	return append(out, doc[end:]...)
}
