package conformance

import (
	"strings"
	"testing"
)

func TestParseDeviations(t *testing.T) {
	ds, err := ParseDeviations(strings.NewReader("# comment\n\nmust/errnoret-*\trunc ignores it\nflags/log   no flags here  \n"), "x")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0] != (Deviation{"must/errnoret-*", "runc ignores it"}) || ds[1] != (Deviation{"flags/log", "no flags here"}) {
		t.Fatalf("parsed %+v", ds)
	}
	if r, ok := ds.Lookup("must/errnoret-with-kill"); !ok || r != "runc ignores it" {
		t.Errorf("Lookup = %q %v", r, ok)
	}
	if _, ok := ds.Lookup("flags/spec-allow"); ok {
		t.Error("an unlisted case was found")
	}
	for _, bad := range []string{"flags/log\n", "[ reason\n"} {
		if _, err := ParseDeviations(strings.NewReader(bad), "x"); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}
