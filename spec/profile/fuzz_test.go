package profile

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sysgate/sysgate/spec/internal/profiletest"
)

func FuzzParseProfile(f *testing.F) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	if data, err := json.Marshal(RuntimeDefault(CapabilityNames[:])); err == nil {
		f.Add(data)
	}
	for _, s := range []string{
		``,
		`{}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","flags":[]}`,
		`{"archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86"]}],"architectures":["SCMP_ARCH_X86_64"]}`,
		`{"syscalls":[{"name":"read","action":"SCMP_ACT_ALLOW","includes":{},"args":[{"index":7,"value":18446744073709551615,"op":"SCMP_CMP_MASKED_EQ"}]}]}`,
		`{"syscalls":[{"names":["mkdir\u0000x"]}]}`,
		`{"defaultErrnoRet":1.5}`,
		`{"a":1} {}`,
		`[[[[[[[[[[]]]]]]]]]]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *ParseError", err, err)
			}
			if p != nil {
				t.Fatalf("a profile and an error: %v", err)
			}
			// Messages stay readable whatever the input holds.
			if n := len(err.Error()); n > 1024 {
				t.Fatalf("%d-byte error message: %.200s…", n, err)
			}
			return
		}
		for _, f := range Validate(p) {
			if n := len(f.String()); n > 1024 {
				t.Fatalf("%d-byte finding: %.200s…", n, f)
			}
		}
		out, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if len(out) > MaxSize {
			// The standard encoder spells some values out longer than the
			// input did ({} args, escaped <>&); such output is refused by
			// size, not by shape.
			return
		}
		q, err := Parse(out)
		if err != nil {
			t.Fatalf("marshalled profile does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(profiletest.Normalize(p), profiletest.Normalize(q)) {
			t.Fatalf("round trip changed the profile:\n got %#v\nwant %#v", q, p)
		}
	})
}
