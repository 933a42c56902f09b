package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/spec/internal/profiletest"
)

func TestParseProfileSeed(t *testing.T) {
	p, err := Load("testdata/audit.json")
	if err != nil {
		t.Fatal(err)
	}
	want := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: profiletest.X86Arches,
		Syscalls: []specs.LinuxSyscall{{
			Names:  []string{"accept4", "bind", "listen", "read", "write", "close", "exit_group"},
			Action: specs.ActAllow,
		}},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got %+v\nwant %+v", p, want)
	}
	if p.Flags != nil {
		t.Errorf("absent flags parsed as %#v, want nil", p.Flags)
	}
}

// The testdata profiles are realistic Localhost profiles: each must parse,
// validate without errors, and survive json.Marshal.
func TestTestdataProfiles(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata profiles: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			p, err := Load(file)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range Validate(p) {
				if f.Severity == SeverityError {
					t.Errorf("%s", f)
				}
			}
			roundTrip(t, p)
		})
	}
}

func roundTrip(t *testing.T, p *specs.LinuxSeccomp) {
	t.Helper()
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Parse(data)
	if err != nil {
		t.Fatalf("marshalled profile does not parse: %v\n%s", err, data)
	}
	if !reflect.DeepEqual(profiletest.Normalize(p), profiletest.Normalize(q)) {
		t.Fatalf("round trip changed the profile:\n got %+v\nwant %+v", q, p)
	}
}

func TestParseProfileContainerdDefaultRoundTrip(t *testing.T) {
	for name, caps := range map[string][]string{
		"default caps": DefaultCapabilities,
		"all caps":     CapabilityNames[:],
		"no caps":      nil,
	} {
		t.Run(name, func(t *testing.T) {
			p := RuntimeDefault(caps)
			indented, err := json.MarshalIndent(p, "", "\t")
			if err != nil {
				t.Fatal(err)
			}
			q, err := Parse(indented)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(profiletest.Normalize(p), profiletest.Normalize(q)) {
				t.Fatalf("containerd's default profile changed in a round trip")
			}
			roundTrip(t, p)
		})
	}
}

func TestParseProfileAccepts(t *testing.T) {
	allow := func(names ...string) specs.LinuxSyscall {
		return specs.LinuxSyscall{Names: names, Action: specs.ActAllow}
	}
	tests := []struct {
		name string
		in   string
		want *specs.LinuxSeccomp
	}{{
		name: "minimal",
		in:   `{"defaultAction":"SCMP_ACT_ERRNO"}`,
		want: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno},
	}, {
		name: "whitespace around the object",
		in:   "\n\t {\"defaultAction\":\"SCMP_ACT_ERRNO\"} \r\n",
		want: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno},
	}, {
		name: "absent flags are nil",
		in:   `{"defaultAction":"SCMP_ACT_ERRNO"}`,
		want: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Flags: nil},
	}, {
		name: "empty flags are empty, not nil",
		in:   `{"defaultAction":"SCMP_ACT_ERRNO","flags":[]}`,
		want: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Flags: []specs.LinuxSeccompFlag{}},
	}, {
		name: "null flags are absent",
		in:   `{"defaultAction":"SCMP_ACT_ERRNO","flags":null}`,
		want: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno},
	}, {
		name: "flags",
		in:   `{"defaultAction":"SCMP_ACT_ERRNO","flags":["SECCOMP_FILTER_FLAG_LOG"]}`,
		want: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog}},
	}, {
		name: "archMap expands when architectures is absent",
		in: `{"defaultAction":"SCMP_ACT_ERRNO","archMap":[
			{"architecture":"SCMP_ARCH_AARCH64","subArchitectures":["SCMP_ARCH_ARM"]},
			{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86","SCMP_ARCH_X32","SCMP_ARCH_X86"]},
			{"architecture":"SCMP_ARCH_X86","subArchitectures":null}]}`,
		want: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: profiletest.X86Arches},
	}, {
		name: "archMap expands when architectures is empty",
		in:   `{"defaultAction":"SCMP_ACT_ERRNO","architectures":[],"archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86"]}]}`,
		want: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86}},
	}, {
		name: "archMap without an x86 entry adds nothing",
		in:   `{"defaultAction":"SCMP_ACT_ERRNO","archMap":[{"architecture":"SCMP_ARCH_AARCH64","subArchitectures":["SCMP_ARCH_ARM"]}]}`,
		want: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno},
	}, {
		name: "architectures wins; archMap adds sub-architectures of listed ones",
		in: `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"archMap":[
			{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X32","SCMP_ARCH_X86_64"]},
			{"architecture":"SCMP_ARCH_AARCH64","subArchitectures":["SCMP_ARCH_ARM"]}]}`,
		want: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX32}},
	}, {
		name: "legacy name is folded into names",
		in:   `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"read","action":"SCMP_ACT_ALLOW"}]}`,
		want: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{allow("read")}},
	}, {
		name: "comments everywhere, empty Docker conditions",
		in: `{"comment":"c","defaultAction":"SCMP_ACT_ERRNO","archMap":[{"architecture":"SCMP_ARCH_X86","comment":"c"}],
			"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","comment":"c","includes":{},"excludes":null,
			"args":[{"index":1,"value":2,"op":"SCMP_CMP_EQ","comment":"c"}]}]}`,
		want: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchX86},
			Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow,
				Args: []specs.LinuxSeccompArg{{Index: 1, Value: 2, Op: specs.OpEqualTo}}}}},
	}, {
		name: "errno values and null",
		in: `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":null,"syscalls":[
			{"names":["a"],"action":"SCMP_ACT_ERRNO","errnoRet":0},
			{"names":["b"],"action":"SCMP_ACT_ERRNO","errnoRet":null}]}`,
		want: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"a"}, Action: specs.ActErrno, ErrnoRet: profiletest.UintPtr(0)},
			{Names: []string{"b"}, Action: specs.ActErrno}}},
	}, {
		name: "largest argument values",
		in: `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["a"],"action":"SCMP_ACT_ALLOW",
			"args":[{"index":0,"value":18446744073709551615,"valueTwo":18446744073709551615,"op":"SCMP_CMP_MASKED_EQ"}]}]}`,
		want: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"a"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{
				{Value: 1<<64 - 1, ValueTwo: 1<<64 - 1, Op: specs.OpMaskedEqual}}}}},
	}, {
		name: "escapes and non-ASCII text",
		in:   `{"defaultAction":"SCMP_ACT_ERRNO","listenerPath":"/run/\u00e9t\u00e9.sock","listenerMetadata":"caf\u00e9 \"x\""}`,
		want: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, ListenerPath: "/run/été.sock", ListenerMetadata: `café "x"`},
	}, {
		name: "values are not checked by the parser",
		in:   `{"defaultAction":"","architectures":["SCMP_ARCH_AARCH64"],"syscalls":[{"names":[],"action":"nope"}]}`,
		want: &specs.LinuxSeccomp{Architectures: []specs.Arch{specs.ArchAARCH64},
			Syscalls: []specs.LinuxSyscall{{Names: []string{}, Action: "nope"}}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
			if (got.Flags == nil) != (tt.want.Flags == nil) {
				t.Errorf("flags nil = %v, want %v", got.Flags == nil, tt.want.Flags == nil)
			}
		})
	}
}

func TestParseProfileErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		path    string
		problem string // a substring of the problem
	}{
		// Not a profile at all.
		{"empty", "", "", "the profile is empty"},
		{"blank", " \n\t\r\n", "", "the profile is empty"},
		{"array", `[{"defaultAction":"SCMP_ACT_ERRNO"}]`, "", "must be a JSON object, got array"},
		{"string", `"SCMP_ACT_ERRNO"`, "", "must be a JSON object, got string"},
		{"null", `null`, "", "must be a JSON object, got null"},
		{"number", `42`, "", "must be a JSON object, got number 42"},
		{"byte-order mark", "\xef\xbb\xbf{}", "", "byte-order mark"},
		{"invalid UTF-8", "{\"defaultAction\":\n\"SCMP\xff\"}", "", "invalid UTF-8 at line 2, column 6"},

		// Malformed JSON, located by line and column.
		{"missing comma", "{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\"\n  \"syscalls\": []\n}", "",
			"invalid JSON at line 3, column 3: invalid character '\"' after object key:value pair"},
		{"trailing comma", "{\"syscalls\": [\n{\"names\": [\"read\",]}]}", "",
			"invalid JSON at line 2, column 19: invalid character ']'"},
		{"unclosed", "{\"defaultAction\": \"SCMP_ACT_ERRNO\",\n\"syscalls\": [", "",
			"invalid JSON at line 2, column 14: unexpected end of input"},
		{"unclosed string", `{"defaultAction": "SCMP_`, "", "invalid JSON at line 1, column 25: unexpected end of input"},
		{"single quotes", `{'defaultAction': 1}`, "", "invalid JSON at line 1, column 2"},
		{"bad literal", `{"flags": nul}`, "", "invalid JSON at line 1, column 14"},
		{"control character in string", "{\"comment\": \"a\tb\"}", "", "invalid JSON at line 1, column 15"},

		// Trailing data.
		{"trailing garbage", `{"defaultAction":"SCMP_ACT_ERRNO"} x`, "", "trailing data after the JSON object at line 1, column 36"},
		{"two objects", "{}\n{}", "", "trailing data after the JSON object at line 2, column 1"},
		{"trailing comma after object", `{},`, "", "trailing data"},

		// Wrong types, at every depth.
		{"defaultAction number", `{"defaultAction":1}`, "defaultAction", "expected a string, got number 1"},
		{"defaultAction null", `{"defaultAction":null}`, "defaultAction", "expected a string, got null"},
		{"defaultErrnoRet string", `{"defaultErrnoRet":"1"}`, "defaultErrnoRet", "expected a non-negative integer, got string"},
		{"defaultErrnoRet negative", `{"defaultErrnoRet":-1}`, "defaultErrnoRet", "expected a non-negative integer, got number -1"},
		{"architectures string", `{"architectures":"SCMP_ARCH_X86_64"}`, "architectures", "expected an array of strings, got string"},
		{"architectures element", `{"architectures":["SCMP_ARCH_X86",7]}`, "architectures[1]", "expected a string, got number 7"},
		{"flags element null", `{"flags":[null]}`, "flags[0]", "expected a string, got null"},
		{"listenerPath bool", `{"listenerPath":true}`, "listenerPath", "expected a string, got boolean"},
		{"syscalls object", `{"syscalls":{}}`, "syscalls", "expected an array of objects, got object"},
		{"syscall string", `{"syscalls":["read"]}`, "syscalls[0]", "expected an object, got string"},
		{"names string", `{"syscalls":[{"names":"read"}]}`, "syscalls[0].names", "expected an array of strings, got string"},
		{"name element", `{"syscalls":[{},{"names":["read",{}]}]}`, "syscalls[1].names[1]", "expected a string, got object"},
		{"errnoRet fraction", `{"syscalls":[{"errnoRet":1.5}]}`, "syscalls[0].errnoRet", "expected a non-negative integer, got number 1.5"},
		{"errnoRet exponent", `{"syscalls":[{"errnoRet":1e3}]}`, "syscalls[0].errnoRet", "expected a non-negative integer, got number 1e3"},
		{"errnoRet too large", `{"syscalls":[{"errnoRet":18446744073709551616}]}`, "syscalls[0].errnoRet",
			"expected a non-negative integer no larger than 18446744073709551615"},
		{"args object", `{"syscalls":[{"args":{}}]}`, "syscalls[0].args", "expected an array of objects, got object"},
		{"index string", `{"syscalls":[{},{},{},{"args":[{"index":"0"}]}]}`, "syscalls[3].args[0].index",
			"expected a non-negative integer, got string"},
		{"value negative", `{"syscalls":[{"args":[{"index":0},{"value":-5}]}]}`, "syscalls[0].args[1].value",
			"expected a non-negative integer, got number -5"},
		{"value too large", `{"syscalls":[{"args":[{"value":18446744073709551616}]}]}`, "syscalls[0].args[0].value",
			"no larger than 18446744073709551615"},
		{"valueTwo bool", `{"syscalls":[{"args":[{"valueTwo":false}]}]}`, "syscalls[0].args[0].valueTwo", "got boolean"},
		{"op number", `{"syscalls":[{"args":[{"op":1}]}]}`, "syscalls[0].args[0].op", "expected a string, got number 1"},
		{"archMap object", `{"archMap":{}}`, "archMap", "expected an array of objects, got object"},
		{"subArchitectures element", `{"archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":[1]}]}`,
			"archMap[0].subArchitectures[0]", "expected a string, got number 1"},
		{"comment number", `{"syscalls":[{"comment":1}]}`, "syscalls[0].comment", "expected a string, got number 1"},

		// Unknown fields, at every depth.
		{"unknown top-level field", `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnos":1}`, "defaultErrnos",
			"unknown field; known fields: defaultAction, defaultErrnoRet, architectures, archMap, flags, listenerPath, listenerMetadata, syscalls, comment"},
		{"case matters", `{"DefaultAction":"SCMP_ACT_ERRNO"}`, "DefaultAction", "unknown field"},
		{"unknown syscall field", `{"syscalls":[{},{},{"nmes":["read"]}]}`, "syscalls[2].nmes",
			"unknown field; known fields: names, action, errnoRet, args, comment"},
		{"unknown arg field", `{"syscalls":[{"args":[{"index":0,"vaue":1}]}]}`, "syscalls[0].args[0].vaue",
			"unknown field; known fields: index, value, valueTwo, op, comment"},
		{"unknown archMap field", `{"archMap":[{"arch":"SCMP_ARCH_X86_64"}]}`, "archMap[0].arch",
			"unknown field; known fields: architecture, subArchitectures, comment"},
		{"odd field name", `{"syscalls":[{"a b":1}]}`, `syscalls[0]["a b"]`, "unknown field"},
		{"first unknown field in document order", `{"zzz":1,"aaa":2}`, "zzz", "unknown field"},

		// Ambiguities.
		{"duplicate field", `{"defaultAction":"SCMP_ACT_ALLOW","defaultAction":"SCMP_ACT_ERRNO"}`, "defaultAction", "field given twice"},
		{"duplicate nested field", `{"syscalls":[{"action":"SCMP_ACT_ALLOW","action":"SCMP_ACT_KILL"}]}`, "syscalls[0].action", "field given twice"},
		{"name and names", `{"syscalls":[{"name":"read","names":["write"]}]}`, "syscalls[0].names", `cannot be combined with "name"`},
		{"names and name", `{"syscalls":[{"names":["write"],"name":"read"}]}`, "syscalls[0].name", `cannot be combined with "names"`},

		// NUL bytes.
		{"NUL in a syscall name", `{"syscalls":[{"names":["read","mkdir\u0000x"]}]}`, "syscalls[0].names[1]", `"mkdir\x00x" contains a NUL byte`},
		{"NUL in defaultAction", `{"defaultAction":"SCMP_ACT_ALLOW\u0000"}`, "defaultAction", "NUL byte"},
		{"NUL in listenerPath", `{"listenerPath":"/run/a\u0000b"}`, "listenerPath", "NUL byte"},

		// Docker conditionals.
		{"includes", `{"syscalls":[{},{},{},{},{},{"names":["ptrace"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"4.8"}}]}`,
			"syscalls[5].includes", `Docker conditional rule (includes/excludes): it depends on the container; render it for a capability set with "sysgate profile render FILE --caps LIST"`},
		{"excludes", `{"syscalls":[{"excludes":{"caps":["CAP_SYS_ADMIN"]}}]}`, "syscalls[0].excludes", "Docker conditional rule"},
		{"includes not an object", `{"syscalls":[{"includes":[]}]}`, "syscalls[0].includes", "expected an object, got array"},
		{"an unknown condition", `{"syscalls":[{"includes":{"kernel":"5.8"}}]}`, "syscalls[0].includes.kernel", "unknown field; known fields: caps, arches, minKernel"},
		{"minKernel not a version", `{"syscalls":[{"includes":{"minKernel":"5"}}]}`, "syscalls[0].includes.minKernel", `"5" is not a kernel version`},
		{"minKernel 0.0", `{"syscalls":[{"excludes":{"minKernel":"0.0"}}]}`, "syscalls[0].excludes.minKernel", `"0.0" is not a kernel version`},
		{"minKernel past 255", `{"syscalls":[{"includes":{"minKernel":"256.1"}}]}`, "syscalls[0].includes.minKernel", "not a kernel version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.in))
			if err == nil {
				t.Fatalf("parsed as %+v, want an error", p)
			}
			if p != nil {
				t.Errorf("got a profile with the error %v", err)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *ParseError", err, err)
			}
			if pe.Path != tt.path {
				t.Errorf("path %q, want %q (error: %v)", pe.Path, tt.path, err)
			}
			if !strings.Contains(pe.Problem, tt.problem) {
				t.Errorf("problem %q does not contain %q", pe.Problem, tt.problem)
			}
			if pe.File != "" {
				t.Errorf("Parse set File %q", pe.File)
			}
		})
	}
}

func TestProfileErrorString(t *testing.T) {
	tests := []struct {
		err  ParseError
		want string
	}{
		{ParseError{File: "/p.json", Path: "syscalls[0].action", Problem: "bad"}, "/p.json: syscalls[0].action: bad"},
		{ParseError{File: "/p.json", Problem: "bad"}, "/p.json: bad"},
		{ParseError{Path: "flags", Problem: "bad"}, "flags: bad"},
		{ParseError{Problem: "bad"}, "bad"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestLoadProfileErrors(t *testing.T) {
	dir := t.TempDir()

	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(dir, "missing.json")
		_, err := Load(path)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.File != path {
			t.Fatalf("got %v, want a *ParseError for %s", err, path)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%v does not match fs.ErrNotExist", err)
		}
		if strings.Count(err.Error(), path) != 1 {
			t.Errorf("%q should name the file once", err)
		}
	})

	t.Run("directory", func(t *testing.T) {
		if _, err := Load(dir); err == nil {
			t.Fatal("loaded a directory")
		}
	})

	t.Run("syntax error names the file", func(t *testing.T) {
		path := filepath.Join(dir, "bad.json")
		if err := os.WriteFile(path, []byte("{\n\"syscalls\": [{\"nmes\": []}]}"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		want := path + `: syscalls[0].nmes: unknown field; known fields: names, action, errnoRet, args, comment`
		if err == nil || err.Error() != want {
			t.Fatalf("got %v\nwant %s", err, want)
		}
	})

	t.Run("10 MB file", func(t *testing.T) {
		// A valid profile padded with a huge comment: only the size limit
		// can refuse it.
		path := filepath.Join(dir, "huge.json")
		var b bytes.Buffer
		b.WriteString(`{"defaultAction":"SCMP_ACT_ERRNO","comment":"`)
		b.Write(bytes.Repeat([]byte("x"), 10<<20))
		b.WriteString(`"}`)
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err := Load(path)
		elapsed := time.Since(start)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.File != path {
			t.Fatalf("got %v, want a *ParseError for %s", err, path)
		}
		if !strings.Contains(pe.Problem, "1 MiB") || !strings.Contains(pe.Problem, "1048576") {
			t.Errorf("%q does not state the limit", pe.Problem)
		}
		if elapsed > 2*time.Second {
			t.Errorf("refusing a 10 MB file took %v", elapsed)
		}
	})
}

func TestProfileSizeLimit(t *testing.T) {
	head := []byte(`{"defaultAction":"SCMP_ACT_ERRNO"}`)
	pad := func(n int) []byte {
		return append(append([]byte(nil), head...), bytes.Repeat([]byte(" "), n-len(head))...)
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		size int
		ok   bool
	}{{MaxSize, true}, {MaxSize + 1, false}} {
		data := pad(tt.size)
		_, err := Parse(data)
		if (err == nil) != tt.ok {
			t.Errorf("Parse of %d bytes: %v", tt.size, err)
		}
		path := filepath.Join(dir, "p.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = Load(path)
		if (err == nil) != tt.ok {
			t.Errorf("Load of %d bytes: %v", tt.size, err)
		}
	}
}
