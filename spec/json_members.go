package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// objectMembers locates the members of the JSON object doc: where each
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
type objectMembers struct {
	spans   map[string]valueSpan
	closing int // offset of the closing '}'
	empty   bool
}

// valueSpan is where a member's value is, and where the member begins: the
// end of the previous member (its comma included) or of the opening brace.
type valueSpan struct {
	memberStart, start, end int
	first                   bool
}

func scanObject(doc []byte, what string, edited ...string) (objectMembers, error) {
	return scanObjectNested(doc, what, nil, edited...)
}

// scanObjectNested is scanObject that also refuses duplicate members inside
// the members named in nested (when they are objects), in the same pass:
// config.json's linux member holds the whole profile, and scanning it a
// second time was a quarter of create's work.
func scanObjectNested(doc []byte, what string, nested []string, edited ...string) (objectMembers, error) {
	m := objectMembers{spans: map[string]valueSpan{}}
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
		for _, e := range edited {
			if strings.EqualFold(name, e) && name != e {
				return m, fmt.Errorf("%s has the member %q; write it as %q", what, name, e)
			}
		}
		if slices.Contains(nested, name) && nextByte(doc, int(dec.InputOffset())) == '{' {
			start, end, err := checkMembers(dec, doc, what+": "+name)
			if err != nil {
				return m, err
			}
			m.spans[name] = valueSpan{memberStart: memberStart, start: start, end: end, first: len(m.spans) == 0}
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return m, fmt.Errorf("%s: member %q: %w", what, name, err)
		}
		end := int(dec.InputOffset())
		m.spans[name] = valueSpan{memberStart: memberStart, start: end - len(raw), end: end, first: len(m.spans) == 0}
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

// memberEdit sets one member's value; nil deletes the member.
type memberEdit struct {
	name  string
	value []byte
}

// withMembers applies edits to the object doc, whose members are m. Edits
// are applied back to front so that the spans stay valid; new members go
// before the closing brace.
func withMembers(doc []byte, m objectMembers, edits ...memberEdit) ([]byte, error) {
	var added [][]byte
	type replacement struct {
		span  valueSpan
		value []byte
	}
	var replaced []replacement
	for _, e := range edits {
		span, ok := m.spans[e.name]
		switch {
		case ok && e.value != nil:
			replaced = append(replaced, replacement{span, e.value})
		case ok:
			replaced = append(replaced, replacement{deletion(doc, span), nil})
		case e.value != nil:
			key, _ := json.Marshal(e.name)
			added = append(added, append(append(key, ':'), e.value...))
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
func deletion(doc []byte, span valueSpan) valueSpan {
	d := valueSpan{start: span.memberStart, end: span.end}
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
