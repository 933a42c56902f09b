package spec

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writePolicy writes a policy file into a fresh temporary directory.
func writePolicy(t testing.TB, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDefaultPolicyValues(t *testing.T) {
	want := Policy{
		Runtime:     "/usr/sbin/runc",
		ProfileRoot: "/var/lib/kubelet/seccomp",
		Default:     "runtime/default",
		Privileged:  "unconfined",
		Unconfined:  "allow",
		CacheDir:    "/var/cache/sysgate/bpf",

		DecisionLogMaxBytes: 64 << 20,
		LogDenials:          true,
		DenialLog:           "/var/log/sysgate/denials.jsonl",
		DenialLogMaxBytes:   64 << 20,
		RecordDir:           "/var/lib/sysgate",
		RecordSocket:        "/run/sysgate/record.sock",
	}
	if got := DefaultPolicy(); !reflect.DeepEqual(got, want) {
		t.Errorf("DefaultPolicy() = %+v\nwant %+v", got, want)
	}
	if err := DefaultPolicy().check(); err != nil {
		t.Errorf("the defaults do not pass their own check: %v", err)
	}
}

func TestLoadPolicyMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-dir", "config.toml")
	p, err := LoadPolicy(path)
	if err != nil {
		t.Fatalf("missing policy file: %v, want the defaults", err)
	}
	if !reflect.DeepEqual(p, DefaultPolicy()) {
		t.Errorf("missing policy file gave %+v, want the defaults %+v", p, DefaultPolicy())
	}
	if p.Path != "" {
		t.Errorf("Path = %q for the defaults, want empty", p.Path)
	}
}

func TestLoadPolicyUnreadable(t *testing.T) {
	// A directory where the file should be exists but cannot be read as a
	// policy: that must fail, not fall back to the defaults.
	dir := t.TempDir()
	_, err := LoadPolicy(dir)
	if err == nil {
		t.Fatal("a directory as policy file was accepted")
	}
	if !strings.Contains(err.Error(), "policy "+dir) {
		t.Errorf("error %q does not name the policy file %s", err, dir)
	}
}

func TestLoadPolicyEveryKey(t *testing.T) {
	path := writePolicy(t, `
# every key sysgate knows
runtime = "/usr/bin/crun"
profile_root = "/srv/seccomp"
default = "localhost/profiles/default.json"
runtime_default = "/etc/sysgate/runtime-default.json"
privileged = "runtime/default"
unconfined = "deny"
exempt_namespaces = ["kube-system", "monitoring"]
audit = true
decision_log = "/var/log/sysgate/decisions.jsonl"
cache_dir = "/srv/cache/bpf"
runtime_kind = "crun"
decision_log_max_bytes = 1048576
allow_restore = true
audit_namespaces = ["staging"]
audit_opt_in_namespaces = ["learning"]
log_denials = false
denials = true
denial_log = "/var/log/sysgate/d.jsonl"
denial_log_max_bytes = 8192
metrics_listen = "127.0.0.1:9795"
nri_runtime_handlers = ["runc", "sysgate"]
nri_unconfined_is_explicit = true
nri_crun_handlers = ["crun"]
nri_required = true
record_namespaces = ["learning"]
record_dir = "/srv/sysgate"
record_socket = "/run/sg/record.sock"
`)
	got, err := LoadPolicy(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Policy{
		Runtime:          "/usr/bin/crun",
		ProfileRoot:      "/srv/seccomp",
		Default:          "localhost/profiles/default.json",
		RuntimeDefault:   "/etc/sysgate/runtime-default.json",
		Privileged:       "runtime/default",
		Unconfined:       UnconfinedDeny,
		ExemptNamespaces: []string{"kube-system", "monitoring"},
		Audit:            true,
		DecisionLog:      "/var/log/sysgate/decisions.jsonl",
		CacheDir:         "/srv/cache/bpf",
		RuntimeKind:      "crun",
		Path:             path,

		DecisionLogMaxBytes: 1 << 20,
		AllowRestore:        true,

		AuditNamespaces:      []string{"staging"},
		AuditOptInNamespaces: []string{"learning"},
		Denials:              true,
		DenialLog:            "/var/log/sysgate/d.jsonl",
		DenialLogMaxBytes:    8192,
		MetricsListen:        "127.0.0.1:9795",

		NRIRuntimeHandlers:      []string{"runc", "sysgate"},
		NRIUnconfinedIsExplicit: true,
		NRICrunHandlers:         []string{"crun"},
		NRIRequired:             true,
		RecordNamespaces:        []string{"learning"},
		RecordDir:               "/srv/sysgate",
		RecordSocket:            "/run/sg/record.sock",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestLoadPolicyPartialKeepsDefaults(t *testing.T) {
	for _, tc := range []struct {
		name, toml string
		change     func(*Policy)
	}{
		{"empty file", "", func(*Policy) {}},
		{"comment only", "# nothing here\n", func(*Policy) {}},
		{"runtime only", `runtime = "/usr/bin/crun"`, func(p *Policy) { p.Runtime = "/usr/bin/crun" }},
		{"unconfined audit", `unconfined = "audit"`, func(p *Policy) { p.Unconfined = UnconfinedAudit }},
		{"default unconfined", `default = "unconfined"`, func(p *Policy) { p.Default = "unconfined" }},
		{"default docker/default", `default = "docker/default"`, func(p *Policy) { p.Default = "docker/default" }},
		{"privileged localhost", `privileged = "localhost/priv.json"`, func(p *Policy) { p.Privileged = "localhost/priv.json" }},
		{"audit false", `audit = false`, func(*Policy) {}},
		{"cache disabled", `cache_dir = ""`, func(p *Policy) { p.CacheDir = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writePolicy(t, tc.toml)
			got, err := LoadPolicy(path)
			if err != nil {
				t.Fatal(err)
			}
			want := DefaultPolicy()
			tc.change(&want)
			want.Path = path
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestLoadPolicyErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		toml string
		// want are substrings of the error after "policy <path>".
		want []string
	}{
		// Unknown keys: the key is named, once, on one line, with its place.
		{"unknown key", "runtime = \"/usr/sbin/runc\"\nbogus = 1\n",
			[]string{`:2:1: unknown key "bogus"`, "known keys are runtime, profile_root, default, runtime_default, privileged, unconfined, exempt_namespaces, audit, audit_namespaces", "decision_log", "cache_dir", "runtime_kind"}},
		{"misspelt key", "profileroot = \"/srv\"\n",
			[]string{`:1:1: unknown key "profileroot"`}},
		{"unknown table", "runtime = \"/x\"\n[extra]\nk = 1\n",
			[]string{`:2:2: unknown key "extra"`}},
		{"two unknown keys", "a = 1\nb = 2\n",
			[]string{`:1:1: unknown key "a", "b"`}},

		// Wrong types: placed at line:col.
		{"audit as string", `audit = "yes"`, []string{":1:9: ", "bool"}},
		{"runtime as integer", `runtime = 5`, []string{":1:11: ", "integer"}},
		{"exempt_namespaces as string", "\n\nexempt_namespaces = \"kube-system\"\n", []string{":3:21: ", "[]string"}},
		{"exempt_namespaces of integers", `exempt_namespaces = [1]`, []string{":1:22: ", "integer"}},
		{"syntax error", "runtime = \n", []string{":1:11: ", "unexpected character"}},
		{"duplicate key", "runtime = \"/a\"\nruntime = \"/b\"\n", []string{":2:1: ", "already defined"}},

		// Invalid values: the key is named, then the value.
		{"unconfined maybe", `unconfined = "maybe"`, []string{`unconfined: "maybe" must be allow, deny or audit`}},
		{"unconfined empty", `unconfined = ""`, []string{`unconfined: "" must be allow, deny or audit`}},
		{"default traversal", `default = "localhost/../x"`, []string{`default: localhost profile path "../x" must not contain ".."`}},
		{"default absolute", `default = "localhost//etc/passwd"`, []string{`default: localhost profile path "/etc/passwd" must be relative`}},
		{"default unknown", `default = "RuntimeDefault"`, []string{`default: "RuntimeDefault" is not a seccomp profile`}},
		{"default empty", `default = ""`, []string{`default: "" is not a seccomp profile`}},
		{"privileged unknown", `privileged = "privileged"`, []string{`privileged: "privileged" is not a seccomp profile`}},
		{"privileged traversal", `privileged = "localhost/a/../../x"`, []string{`privileged: localhost profile path "a/../../x" must not contain ".."`}},
		{"relative profile_root", `profile_root = "seccomp"`, []string{`profile_root: "seccomp" must be an absolute directory`}},
		{"empty profile_root", `profile_root = ""`, []string{`profile_root: "" must be an absolute directory`}},
		{"relative runtime_default", `runtime_default = "default.json"`, []string{`runtime_default: "default.json" must be an absolute path`}},
		{"empty runtime", `runtime = ""`, []string{"runtime: must name the real OCI runtime"}},
		{"relative cache_dir", `cache_dir = "cache"`, []string{`cache_dir: "cache" must be an absolute directory`}},
		{"unknown runtime_kind", `runtime_kind = "youki"`, []string{`runtime_kind: "youki" must be runc or crun`}},
		{"relative denial_log", "denials = true\ndenial_log = \"d.jsonl\"", []string{`denial_log: "d.jsonl" must be an absolute file path`}},
		{"tiny denial log", `denial_log_max_bytes = 10`, []string{`denial_log_max_bytes: 10 is too small`}},
		{"metrics_listen without port", `metrics_listen = "localhost"`, []string{`metrics_listen: "localhost" must be host:port`}},
		{"nri_required without cache_dir", "nri_required = true\ncache_dir = \"\"", []string{"nri_required: the NRI plugin's decisions are signed with the node's record key, which lives in cache_dir"}},
		{"empty audit namespace", `audit_opt_in_namespaces = [""]`, []string{`audit_opt_in_namespaces: an empty name`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writePolicy(t, tc.toml)
			_, err := LoadPolicy(path)
			if err == nil {
				t.Fatalf("%q was accepted", tc.toml)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "policy "+path) {
				t.Errorf("error %q does not start with %q", msg, "policy "+path)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\ndoes not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans several lines, which runc's one-line JSON log mangles:\n%s", msg)
			}
		})
	}
}

func TestPolicyCache(t *testing.T) {
	if c := DefaultPolicy().Cache(); c == nil || c.Dir != "/var/cache/sysgate/bpf" {
		t.Errorf("DefaultPolicy().Cache() = %+v", c)
	}
	p := DefaultPolicy()
	p.CacheDir = ""
	if c := p.Cache(); c != nil {
		t.Errorf("cache_dir = \"\" gives cache %+v, want none", c)
	}
}

func TestPolicyHandsOverBPF(t *testing.T) {
	for _, tc := range []struct {
		runtime, kind string
		want          bool
	}{
		{"/usr/sbin/runc", "", false},
		{"/usr/bin/crun", "", true},
		{"/usr/local/bin/crun-1.8", "", true},
		{"/usr/bin/crun", "runc", false},
		{"/opt/wrapped-runtime", "crun", true},
	} {
		p := DefaultPolicy()
		p.Runtime, p.RuntimeKind = tc.runtime, tc.kind
		if got := p.HandsOverBPF(); got != tc.want {
			t.Errorf("runtime %s, runtime_kind %q: HandsOverBPF() = %v, want %v", tc.runtime, tc.kind, got, tc.want)
		}
	}
}

func TestPolicyExempt(t *testing.T) {
	p := DefaultPolicy()
	p.ExemptNamespaces = []string{"kube-system", "", "monitoring"}
	for ns, want := range map[string]bool{
		"kube-system":  true,
		"monitoring":   true,
		"default":      false,
		"kube":         false,
		"kube-system ": false,
		"Kube-System":  false,
		"":             false, // a container without a namespace is never exempt
	} {
		if got := p.Exempt(ns); got != want {
			t.Errorf("Exempt(%q) = %v, want %v", ns, got, want)
		}
	}
	if DefaultPolicy().Exempt("kube-system") {
		t.Error("the default policy exempts kube-system")
	}
}

func TestRuntimeOnly(t *testing.T) {
	for _, tc := range []struct {
		name, toml string // toml "-" means no file
		want       string
		wantErr    string
	}{
		{"missing file", "-", "/usr/sbin/runc", ""},
		{"runtime set", `runtime = "/usr/bin/crun"`, "/usr/bin/crun", ""},
		{"runtime set among other keys", "audit = true\nruntime = \"/opt/runc\"\nunconfined = \"deny\"\n", "/opt/runc", ""},
		{"no runtime key", `unconfined = "deny"`, "/usr/sbin/runc", ""},
		{"empty file", "", "/usr/sbin/runc", ""},
		{"empty runtime", `runtime = ""`, "/usr/sbin/runc", ""},
		// The passthrough path does not check the rest of the policy: an
		// unknown or invalid key elsewhere must not break `runc state`.
		{"unknown key elsewhere", "bogus = 1\nruntime = \"/usr/bin/crun\"\n", "/usr/bin/crun", ""},
		{"invalid value elsewhere", "unconfined = \"maybe\"\nruntime = \"/usr/bin/crun\"\n", "/usr/bin/crun", ""},
		{"invalid TOML", "runtime = \n", "", "toml"},
		{"runtime of wrong type", `runtime = 5`, "", "toml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.toml")
			if tc.toml != "-" {
				path = writePolicy(t, tc.toml)
			}
			got, err := RuntimeOnly(path)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("RuntimeOnly = %q, want an error", got)
				}
				if !strings.Contains(err.Error(), "policy "+path) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %q does not name %s and %q", err, path, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("RuntimeOnly = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPolicyPath(t *testing.T) {
	t.Setenv(PolicyPathEnv, "/run/sysgate/test.toml")
	if got := PolicyPath(); got != "/run/sysgate/test.toml" {
		t.Errorf("with %s set: PolicyPath() = %q", PolicyPathEnv, got)
	}
	t.Setenv(PolicyPathEnv, "")
	if got := PolicyPath(); got != "/etc/sysgate/config.toml" {
		t.Errorf("with %s empty: PolicyPath() = %q, want /etc/sysgate/config.toml", PolicyPathEnv, got)
	}
	if PolicyPathEnv != "SYSGATE_CONFIG" {
		t.Errorf("PolicyPathEnv = %q, the issue names SYSGATE_CONFIG", PolicyPathEnv)
	}
}

func TestPolicyPathLoads(t *testing.T) {
	// The environment variable reaches the file that is loaded.
	path := writePolicy(t, `unconfined = "deny"`)
	t.Setenv("SYSGATE_CONFIG", path)
	p, err := LoadPolicy(PolicyPath())
	if err != nil {
		t.Fatal(err)
	}
	if p.Unconfined != UnconfinedDeny || p.Path != path {
		t.Errorf("LoadPolicy(PolicyPath()) = %+v, want unconfined deny from %s", p, path)
	}
}

func FuzzLoadPolicy(f *testing.F) {
	for _, s := range []string{
		"",
		`runtime = "/usr/bin/crun"`,
		"runtime = \"/usr/bin/crun\"\nprofile_root = \"/srv/seccomp\"\ndefault = \"localhost/a.json\"\nruntime_default = \"/x.json\"\nprivileged = \"runtime/default\"\nunconfined = \"deny\"\nexempt_namespaces = [\"kube-system\"]\naudit = true\ndecision_log = \"/log\"\n",
		`unconfined = "maybe"`,
		`default = "localhost/../x"`,
		"bogus = 1",
		"[table]\nk = [1, {a = 2}]",
		"audit = 1979-05-27T07:32:00Z",
		"exempt_namespaces = [[\"a\"], \"b\"]",
		"runtime = '''\nmulti\nline'''",
		"a.b.c = 1\n[[arr]]\n",
		"runtime = \"\\u0000\"",
	} {
		f.Add([]byte(s))
	}
	// One file per fuzzing process, rewritten for each input: a temporary
	// directory per input would make the file system the bottleneck.
	path := filepath.Join(f.TempDir(), "config.toml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := LoadPolicy(path)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "policy "+path) {
				t.Fatalf("error %q does not name the policy file", err)
			}
			return
		}
		// Whatever was accepted must be a policy the wrapper can use.
		if err := p.check(); err != nil {
			t.Fatalf("accepted a policy that fails its own check: %v", err)
		}
		if p.Path != path {
			t.Fatalf("Path = %q, want %q", p.Path, path)
		}
		// The passthrough path must agree on the runtime of every
		// valid policy.
		runtime, err := RuntimeOnly(path)
		if err != nil {
			t.Fatalf("LoadPolicy accepted the file, RuntimeOnly did not: %v", err)
		}
		if runtime != p.Runtime {
			t.Fatalf("RuntimeOnly = %q, LoadPolicy's runtime = %q", runtime, p.Runtime)
		}
	})
}
