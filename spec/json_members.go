package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
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
	m := objectMembers{spans: map[string]valueSpan{}}
	dec := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return m, fmt.Errorf("%s is not a JSON object", what)
	}
	m.empty = !dec.More()
	folded := map[string]string{}
	for dec.More() {
		memberStart := int(dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return m, fmt.Errorf("%s: %w", what, err)
		}
		name := tok.(string)
		if prev, dup := folded[strings.ToLower(name)]; dup {
			if prev == name {
				return m, fmt.Errorf("%s has the member %q twice, which runtimes read differently; keep one", what, name)
			}
			return m, fmt.Errorf("%s has the members %q and %q, which runc reads as one (the last) and crun as two; keep one", what, prev, name)
		}
		folded[strings.ToLower(name)] = name
		for _, e := range edited {
			if strings.EqualFold(name, e) && name != e {
				return m, fmt.Errorf("%s has the member %q; write it as %q", what, name, e)
			}
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
