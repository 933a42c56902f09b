package profile

import (
	"strings"
	"testing"
)

func TestParseProfileRefAccepts(t *testing.T) {
	for _, tc := range []struct {
		in     string
		want   Ref
		String string
	}{
		{"runtime/default", Ref{Type: TypeRuntimeDefault}, "runtime/default"},
		{"docker/default", Ref{Type: TypeRuntimeDefault}, "runtime/default"},
		{"unconfined", Ref{Type: TypeUnconfined}, "unconfined"},
		{"localhost/profiles/audit.json", Ref{Type: TypeLocalhost, Path: "profiles/audit.json"}, "localhost/profiles/audit.json"},
		{"localhost/a/b/c.json", Ref{Type: TypeLocalhost, Path: "a/b/c.json"}, "localhost/a/b/c.json"},
		{"localhost/audit.json", Ref{Type: TypeLocalhost, Path: "audit.json"}, "localhost/audit.json"},
		// ".." only as a whole element is traversal; dots inside a name are not.
		{"localhost/a..b/..c.json", Ref{Type: TypeLocalhost, Path: "a..b/..c.json"}, "localhost/a..b/..c.json"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRef(tc.in)
			if err != nil {
				t.Fatalf("ParseRef(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("ParseRef(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
			if s := got.String(); s != tc.String {
				t.Errorf("String() = %q, want %q", s, tc.String)
			}
			// What String returns must parse back to the same reference.
			again, err := ParseRef(got.String())
			if err != nil || again != got {
				t.Errorf("ParseRef(%q) = %+v, %v; want %+v", got.String(), again, err, got)
			}
		})
	}
}

func TestParseProfileRefRefuses(t *testing.T) {
	const hint = "use runtime/default, docker/default, unconfined or localhost/<path relative to the profile root>"
	for _, tc := range []struct {
		name string
		in   string
		want []string // substrings of the error: the offending value and what to do
	}{
		{"empty", "", []string{`"" is not a seccomp profile`, hint}},
		{"localhost without path", "localhost/", []string{"localhost profile path is empty", "e.g. localhost/profiles/audit.json"}},
		{"absolute", "localhost//etc/passwd", []string{`"/etc/passwd" must be relative to the profile root, not absolute`}},
		{"leading traversal", "localhost/../x", []string{`"../x" must not contain ".."`}},
		{"nested traversal", "localhost/a/../../x", []string{`"a/../../x" must not contain ".."`}},
		{"trailing traversal", "localhost/a/..", []string{`"a/.." must not contain ".."`}},
		{"lone traversal", "localhost/..", []string{`".." must not contain ".."`}},
		{"NUL byte", "localhost/a\x00.json", []string{`"a\x00.json" contains a NUL byte`}},
		{"NUL byte before traversal", "localhost/\x00/../x", []string{`contains a NUL byte`}},
		{"Kubernetes field spelling", "RuntimeDefault", []string{`"RuntimeDefault" is not a seccomp profile`, hint}},
		{"Localhost field spelling", "Localhost", []string{`"Localhost" is not a seccomp profile`}},
		{"Unconfined capitalised", "Unconfined", []string{`"Unconfined" is not a seccomp profile`}},
		{"localhost without slash", "localhost", []string{`"localhost" is not a seccomp profile`}},
		{"localhost with colon", "localhost:x.json", []string{`"localhost:x.json" is not a seccomp profile`}},
		{"upper-case prefix", "LOCALHOST/x.json", []string{`"LOCALHOST/x.json" is not a seccomp profile`}},
		{"surrounding space", " runtime/default", []string{`" runtime/default" is not a seccomp profile`}},
		{"trailing newline", "unconfined\n", []string{`"unconfined\n" is not a seccomp profile`}},
		{"random text", "please-be-safe", []string{`"please-be-safe" is not a seccomp profile`}},
		{"absolute file", "/var/lib/kubelet/seccomp/audit.json", []string{`"/var/lib/kubelet/seccomp/audit.json" is not a seccomp profile`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRef(tc.in)
			if err == nil {
				t.Fatalf("ParseRef(%q) = %+v, want an error", tc.in, got)
			}
			if got != (Ref{}) {
				t.Errorf("ParseRef(%q) returned %+v with its error", tc.in, got)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestCheckLocalhostPath(t *testing.T) {
	for rel, wantErr := range map[string]string{
		"profiles/audit.json": "",
		"a/b/c.json":          "",
		"./a.json":            "", // "." stays in place
		"a//b.json":           "",
		"":                    "is empty",
		"/abs.json":           "not absolute",
		"..":                  `must not contain ".."`,
		"a/../b.json":         `must not contain ".."`,
		"a/b/..":              `must not contain ".."`,
		"a\x00b":              "NUL byte",
	} {
		err := CheckLocalhostPath(rel)
		switch {
		case wantErr == "" && err != nil:
			t.Errorf("CheckLocalhostPath(%q): %v", rel, err)
		case wantErr != "" && err == nil:
			t.Errorf("CheckLocalhostPath(%q) accepted it", rel)
		case wantErr != "" && !strings.Contains(err.Error(), wantErr):
			t.Errorf("CheckLocalhostPath(%q) = %q, want it to say %q", rel, err, wantErr)
		}
	}
}
