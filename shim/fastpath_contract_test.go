package shim

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The C fast path decides, before the Go code runs, which command lines it
// may pass straight to the runtime; it must know exactly the global options
// this package knows, or a command line one of them misreads could skip the
// other's checks.
func TestFastPathKnowsTheSameGlobalOptions(t *testing.T) {
	src, err := os.ReadFile("../cmd/sysgate-runc/fastpath.c")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		array string
		want  []string
	}{
		{"value_flags", globalValueFlags},
		{"switch_flags", globalSwitches},
	} {
		m := regexp.MustCompile(`(?s)static const char \*const ` + tc.array + `\[\] = \{(.*?)\};`).FindSubmatch(src)
		if m == nil {
			t.Fatalf("fastpath.c has no array %s", tc.array)
		}
		var got []string
		for _, q := range regexp.MustCompile(`"([^"]*)"`).FindAllSubmatch(m[1], -1) {
			got = append(got, string(q[1]))
		}
		if !strings.Contains(string(m[1]), "NULL") || !slices.Equal(got, tc.want) {
			t.Errorf("fastpath.c %s = %q, shim/cli.go has %q", tc.array, got, tc.want)
		}
	}
}
