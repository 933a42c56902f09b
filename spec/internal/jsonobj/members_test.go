package jsonobj

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestWithMembers(t *testing.T) {
	tests := []struct {
		name, doc string
		edits     []Edit
		want      string // exact bytes
		err       string
	}{
		{name: "replace keeps the rest byte for byte", doc: "{\n  \"a\": [1, 2],\n  \"linux\": {\"x\": 1},\n  \"z\": \"t\"\n}",
			edits: []Edit{{"linux", []byte(`{"y":2}`)}},
			want:  "{\n  \"a\": [1, 2],\n  \"linux\": {\"y\":2},\n  \"z\": \"t\"\n}"},
		{name: "add before the closing brace", doc: `{"a": 1 }`,
			edits: []Edit{{"annotations", []byte(`{"k":"v"}`)}},
			want:  `{"a": 1 ,"annotations":{"k":"v"}}`},
		{name: "add to an empty object", doc: `{ }`,
			edits: []Edit{{"linux", []byte(`{}`)}, {"annotations", []byte(`{}`)}},
			want:  `{ "linux":{},"annotations":{}}`},
		{name: "replace two and add one", doc: `{"linux":null,"b":0,"annotations":{"x":"y"}}`,
			edits: []Edit{{"annotations", []byte(`{}`)}, {"linux", []byte(`{"s":1}`)}, {"new", []byte(`true`)}},
			want:  `{"linux":{"s":1},"b":0,"annotations":{},"new":true}`},
		{name: "a value that is a string with braces", doc: `{"a":"}{\",","linux":1}`,
			edits: []Edit{{"linux", []byte(`2`)}},
			want:  `{"a":"}{\",","linux":2}`},
		{name: "duplicate member", doc: `{"linux":{},"linux":{}}`, err: `member "linux" twice`},
		{name: "duplicate of another member", doc: `{"process":{},"process":{}}`, err: `member "process" twice`},
		{name: "an edited name in another case, beside it", doc: `{"Annotations":{},"annotations":{}}`, err: `write it as "annotations"`},
		{name: "an edited name in another case", doc: `{"Linux":{}}`, err: `write it as "linux"`},
		{name: "not an object", doc: `[1]`, err: "not a JSON object"},
		{name: "truncated", doc: `{"a":1`, err: "config.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Scan([]byte(tt.doc), "config.json", "linux", "annotations")
			var out []byte
			if err == nil {
				out, err = WithMembers([]byte(tt.doc), m, tt.edits...)
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got  %s\nwant %s", out, tt.want)
			}
			if !json.Valid(out) {
				t.Errorf("result is not JSON: %s", out)
			}
		})
	}
}

// FuzzWithMembers: whatever object comes in, the edit sets exactly the
// edited member and keeps every other member's value.
func FuzzWithMembers(f *testing.F) {
	for _, seed := range []string{`{}`, `{"linux":{"seccomp":{}}}`, `{"a":[1,{"b":"}"}],"annotations":null}`, " {\t\"x\" : 1 } "} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		m, err := Scan(doc, "doc", "linux")
		if err != nil {
			return
		}
		var before map[string]json.RawMessage
		if json.Unmarshal(doc, &before) != nil {
			return // e.g. trailing data, which ReadBundle refuses first
		}
		out, err := WithMembers(doc, m, Edit{"linux", []byte(`{"seccomp":null}`)})
		if err != nil {
			t.Fatal(err)
		}
		var after map[string]json.RawMessage
		if err := json.Unmarshal(out, &after); err != nil {
			t.Fatalf("%s -> %s: %v", doc, out, err)
		}
		if string(after["linux"]) != `{"seccomp":null}` {
			t.Fatalf("linux = %s in %s", after["linux"], out)
		}
		for k, v := range before {
			if k == "linux" {
				continue
			}
			var a, b bytes.Buffer
			json.Compact(&a, v)
			json.Compact(&b, after[k])
			if a.String() != b.String() {
				t.Fatalf("%s changed: %s -> %s", k, v, after[k])
			}
		}
	})
}

// Members that differ only in case are read as one by runc (the last) and
// as two by crun: refused, wherever sysgate reads them.
func TestScanObjectRefusesCaseDuplicates(t *testing.T) {
	for _, doc := range []string{
		`{"namespaces":[],"Namespaces":[{"type":"network"}]}`,
		`{"a":1,"A":2}`,
		`{"x":1,"x":2}`,
	} {
		if _, err := Scan([]byte(doc), "linux"); err == nil || !strings.Contains(err.Error(), "linux has the member") {
			t.Errorf("%s: err = %v", doc, err)
		}
	}
}

func TestWithMembersDeletes(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`{"seccomp":{"a":1},"b":2}`, `{"b":2}`},
		{`{ "seccomp" : {"a":1} , "b":2}`, `{  "b":2}`},
		{`{"a":1,"seccomp":{},"b":2}`, `{"a":1,"b":2}`},
		{`{"a":1, "seccomp":{}}`, `{"a":1}`},
		{`{"seccomp":null}`, `{}`},
	} {
		m, err := Scan([]byte(tc.doc), "linux", "seccomp")
		if err != nil {
			t.Fatal(err)
		}
		out, err := WithMembers([]byte(tc.doc), m, Edit{Name: "seccomp"})
		if err != nil || string(out) != tc.want || !json.Valid(out) {
			t.Errorf("%s: got %s (%v), want %s", tc.doc, out, err, tc.want)
		}
	}
}
