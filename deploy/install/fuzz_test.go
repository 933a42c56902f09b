package install

import (
	"bytes"
	"testing"
)

// FuzzEditor: for any file an editor accepts, the edit parses, names the
// handler, keeps every byte of the old file in order, and reverting it
// gives the old file back exactly.
func FuzzEditor(f *testing.F) {
	for i, e := range Engines {
		for _, s := range shapes[e.Name] {
			if s.text != "\x00missing" {
				f.Add(uint8(i), []byte(s.text))
			}
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, before []byte) {
		e := Engines[int(which)%len(Engines)]
		inserts, added, err := e.plan(before, testOpts)
		if err != nil {
			return
		}
		after, err := apply(before, inserts)
		if err != nil {
			t.Fatal(err)
		}
		if err := verify(e.Format, before, after, added); err != nil {
			// Refused before writing: that is the editor failing closed.
			return
		}
		doc, err := decode(e.Format, after)
		if err != nil {
			t.Fatalf("verified but does not parse: %v", err)
		}
		if bin, ok := e.lookup(doc, testOpts); !ok || bin != testOpts.RuntimePath {
			t.Fatalf("verified but the handler reads %q %v", bin, ok)
		}
		back, err := revert(after, inserts)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(back, before) {
			t.Fatalf("revert: %q, want %q", back, before)
		}
	})
}
