package install

import (
	"bytes"
	"fmt"
	"sort"
)

// An Insert is text put into a file at Offset, a byte offset into the file
// as it was before the edit.
type Insert struct {
	Offset int    `json:"offset"`
	Text   string `json:"text"`
}

// apply returns before with the inserts in place. Inserts are sorted by
// offset and must lie within before.
func apply(before []byte, inserts []Insert) ([]byte, error) {
	sorted := append([]Insert(nil), inserts...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Offset < sorted[j].Offset })
	var out bytes.Buffer
	last := 0
	for _, in := range sorted {
		if in.Offset < last || in.Offset > len(before) {
			return nil, fmt.Errorf("insert at offset %d outside the file (%d bytes)", in.Offset, len(before))
		}
		out.Write(before[last:in.Offset])
		out.WriteString(in.Text)
		last = in.Offset
	}
	out.Write(before[last:])
	return out.Bytes(), nil
}

// revert removes inserted text from current. Each insert is looked for
// where install put it (its offset, shifted by the inserts before it);
// when the operator has edited the file since, anywhere, as long as it
// occurs exactly once. Text that is gone or ambiguous is an error: taking
// out the wrong bytes would be worse than asking the operator.
func revert(current []byte, inserts []Insert) ([]byte, error) {
	sorted := append([]Insert(nil), inserts...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Offset < sorted[j].Offset })
	// Positions in the edited file: each insert sits after the text of the
	// ones before it.
	pos := make([]int, len(sorted))
	shift := 0
	for i, in := range sorted {
		pos[i] = in.Offset + shift
		shift += len(in.Text)
	}
	out := current
	// Last first, so that the positions of the earlier ones stay valid.
	for i := len(sorted) - 1; i >= 0; i-- {
		text := []byte(sorted[i].Text)
		at := pos[i]
		if at < 0 || at+len(text) > len(out) || !bytes.Equal(out[at:at+len(text)], text) {
			switch n := bytes.Count(out, text); n {
			case 1:
				at = bytes.Index(out, text)
			case 0:
				return nil, fmt.Errorf("the text sysgate inserted (%q) is no longer in the file; it was edited by hand", firstLine(sorted[i].Text))
			default:
				return nil, fmt.Errorf("the text sysgate inserted (%q) now occurs %d times; remove the copies by hand", firstLine(sorted[i].Text), n)
			}
		}
		next := make([]byte, 0, len(out)-len(text))
		next = append(next, out[:at]...)
		next = append(next, out[at+len(text):]...)
		out = next
	}
	return out, nil
}

// gone reports whether nothing of c is left in current: none of its texts,
// and no handler of its name (an edited block still names it). The edit
// was never written (a crash between the record and the file) or was taken
// out by hand; either way there is nothing to revert.
func (e *Engine) gone(current []byte, c *Change) bool {
	for _, in := range c.Inserts {
		if bytes.Contains(current, []byte(in.Text)) {
			return false
		}
	}
	doc, err := decode(e.Format, current)
	if err != nil {
		return false
	}
	_, found := e.lookup(doc, Options{Handler: c.Handler})
	return !found
}

func firstLine(s string) string {
	s = string(bytes.TrimLeft([]byte(s), "\r\n"))
	if i := bytes.IndexAny([]byte(s), "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}

// newline is the file's line ending: CRLF when its first line ends so,
// else LF. Inserted lines follow it, so that a CRLF file stays CRLF.
func newline(data []byte) string {
	if i := bytes.IndexByte(data, '\n'); i > 0 && data[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}

// lines joins lines with the file's line ending, each line terminated.
func lines(nl string, ls ...string) string {
	var b bytes.Buffer
	for _, l := range ls {
		b.WriteString(l)
		b.WriteString(nl)
	}
	return b.String()
}

// appendBlock is the insert that adds block at the end of data, after a
// blank line, and after a line ending when the file's last line lacks one.
func appendBlock(data []byte, nl, block string) Insert {
	var prefix string
	trimmed := bytes.TrimRight(data, " \t\r\n")
	switch {
	case len(trimmed) == 0 && len(data) == 0:
	case len(data) > 0 && data[len(data)-1] != '\n':
		prefix = nl + nl
	default:
		prefix = nl
	}
	return Insert{Offset: len(data), Text: prefix + block}
}
