package spec

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/spec/bundle"
	"github.com/sysgate/sysgate/spec/internal/profiletest"
	"github.com/sysgate/sysgate/spec/profile"
)

// bundleConfig is a config.json as a CRI would write it, pretty-printed,
// with fields sysgate does not know at the top level and inside linux, a
// number no float64 holds and an escaped string: all must survive a
// rewrite. annotations are extra annotation lines; seccomp, if not empty,
// is the raw linux.seccomp value.
func bundleConfig(annotations map[string]string, seccomp string) string {
	var b strings.Builder
	b.WriteString(`{
  "ociVersion": "1.2.0",
  "vendorExtension": {"b": [1, 2.50, "caf\u00e9"], "a": true, "n": null, "big": 18446744073709551615},
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": ["sh", "-c", "true"],
    "cwd": "/",
    "capabilities": {
      "bounding": ` + mustMarshal(profile.DefaultCapabilities) + `,
      "effective": ` + mustMarshal(profile.DefaultCapabilities) + `,
      "permitted": ` + mustMarshal(profile.DefaultCapabilities) + `
    }
  },
  "root": {"path": "rootfs", "readonly": true},
  "annotations": `)
	a := map[string]string{
		keyContainerdType:      "container",
		keyContainerdName:      "app",
		keyContainerdPod:       "web-1",
		keyContainerdNamespace: "shop",
	}
	for k, v := range annotations {
		a[k] = v
	}
	b.WriteString(mustMarshal(a))
	b.WriteString(`,
  "linux": {
    "someFutureField": {"x": 1},
    "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "network", "path": "/var/run/netns/cni-1"}],
    "maskedPaths": ["/proc/kcore", "/proc/keys"],
    "readonlyPaths": ["/proc/sys"]`)
	if seccomp != "" {
		b.WriteString(`,
    "seccomp": ` + seccomp)
	}
	b.WriteString("\n  }\n}\n")
	return b.String()
}

func mustMarshal(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(data)
}

// writeBundle makes a bundle directory with config.json.
func writeBundle(t testing.TB, config string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func compact(t testing.TB, raw string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(raw)); err != nil {
		t.Fatalf("compacting %s: %v", raw, err)
	}
	return buf.String()
}

// fields splits a JSON object into its members.
func fields(t testing.TB, data []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%v in %s", err, data)
	}
	return m
}

func TestReadBundle(t *testing.T) {
	config := bundleConfig(nil, "")
	dir := writeBundle(t, config)
	b, err := bundle.ReadBundle(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b.Dir != dir || b.ConfigPath() != filepath.Join(dir, "config.json") || string(b.Raw) != config {
		t.Errorf("bundle %q, config path %q, raw equal %v", b.Dir, b.ConfigPath(), string(b.Raw) == config)
	}
	if b.Spec.Process == nil || !reflect.DeepEqual(b.Spec.Process.Capabilities.Bounding, profile.DefaultCapabilities) ||
		b.Spec.Annotations[keyContainerdName] != "app" || b.Spec.Linux.Seccomp != nil {
		t.Errorf("spec not parsed: %+v", b.Spec)
	}
}

func TestReadBundleErrors(t *testing.T) {
	huge := make([]byte, bundle.MaxConfigSize+1)
	for i := range huge {
		huge[i] = ' '
	}
	for _, tc := range []struct {
		name   string
		config string // "-" for no config.json at all
		want   []string
	}{
		{"stray comma", "{\n  \"ociVersion\": \"1.2.0\",\n  \"process\": {\"args\": [\"sh\",]}\n}\n",
			[]string{"is not a valid OCI runtime config", "line 3, column 29: invalid character ']'"}},
		{"not JSON at all", "ociVersion: 1.2.0\n", []string{"line 1, column 1: invalid character 'o'"}},
		{"bad character at the end", `{"ociVersion": x`, []string{"line 1, column 16: invalid character 'x'"}},
		{"truncated", "{\n  \"ociVersion\": \"1.2.0\",", []string{"line 2, column 25: unexpected end of JSON input"}},
		{"empty file", "", []string{"line 1, column 1: unexpected end of JSON input"}},
		{"trailing garbage", "{}\n}", []string{"line 2, column 1: invalid character '}' after top-level value"}},
		{"process is a string", "{\n  \"process\": \"sh\"\n}", []string{"line 2, column", "field process: cannot use string as specs.Process"}},
		{"args is a number", "{\"process\": {\"args\": 5}}", []string{"field process.args: cannot use number as []string"}},
		{"annotation value is a number", "{\"annotations\": {\"a\": 1}}", []string{"line 1, column 24: field annotations: cannot use number as string"}},
		{"seccomp is an array", "{\"linux\": {\"seccomp\": []}}", []string{"field linux.seccomp: cannot use array as specs.LinuxSeccomp"}},
		{"larger than the limit", string(huge), []string{"is larger than 16777216 bytes"}},
		{"no config.json", "-", []string{"config.json: no such file or directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.config != "-" {
				dir = writeBundle(t, tc.config)
			}
			b, err := bundle.ReadBundle(dir)
			if err == nil {
				t.Fatalf("accepted: %+v", b.Spec)
			}
			if b != nil {
				t.Error("a bundle came back with the error")
			}
			msg := err.Error()
			if !strings.Contains(msg, filepath.Join(dir, "config.json")) {
				t.Errorf("error %q does not name %s", msg, filepath.Join(dir, "config.json"))
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\ndoes not contain %q", msg, w)
				}
			}
		})
	}
	t.Run("missing directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "gone")
		_, err := bundle.ReadBundle(dir)
		if err == nil || !strings.Contains(err.Error(), "bundle "+dir) || !strings.Contains(err.Error(), "no such file or directory") {
			t.Errorf("err = %v, want it to name the bundle %s and say it does not exist", err, dir)
		}
	})
}

// decideBundle reads dir and decides with policy.
func decideBundle(t testing.TB, dir string, policy Policy) (*bundle.Bundle, Decision) {
	t.Helper()
	b, err := bundle.ReadBundle(dir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decide("c1", b.Spec, policy)
	if err != nil {
		t.Fatal(err)
	}
	b.RecordKey = testRecordKey
	return b, d
}

var testRecordKey = []byte("0123456789abcdef0123456789abcdef")

func recorded(t testing.TB, out []byte) bundle.Record {
	t.Helper()
	var annotations map[string]string
	if err := json.Unmarshal(fields(t, out)["annotations"], &annotations); err != nil {
		t.Fatal(err)
	}
	raw, ok := annotations[bundle.AnnotationDecision]
	if !ok {
		t.Fatalf("no %s annotation in %s", bundle.AnnotationDecision, out)
	}
	var r bundle.Record
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		t.Fatalf("%s = %q: %v", bundle.AnnotationDecision, raw, err)
	}
	// Every record these tests make is signed for container c1.
	if r.MAC == "" || r.MAC != r.Signed(testRecordKey, "c1").MAC {
		t.Errorf("record %+v does not verify under the node's key", r)
	}
	r.MAC = ""
	return r
}

// A record the client set in the bundle, naming a source its profile never
// came from, is replaced; so is a genuine one copied from another
// container. Only sysgate's own record for this container is kept
// (issue 13, item 11).
func TestForgedRecordsReplaced(t *testing.T) {
	root, _ := decisionRoot(t)
	policy := DefaultPolicy()
	policy.ProfileRoot = root
	rendered := mustMarshal(profile.RuntimeDefault(profile.DefaultCapabilities))
	digest := func() string {
		_, d := decideBundle(t, writeBundle(t, bundleConfig(nil, rendered)), policy)
		return d.Digest
	}()
	claim := bundle.Record{Source: "pod annotation", Type: profile.TypeLocalhost, Ref: "localhost/profiles/audit.json", Digest: digest}
	signed := func(r bundle.Record, id string) bundle.Record { return r.Signed(testRecordKey, id) }
	for _, tc := range []struct {
		name   string
		record bundle.Record
		kept   bool
	}{
		{"unsigned claim", claim, false},
		{"claim with a made-up MAC", func() bundle.Record { r := claim; r.MAC = strings.Repeat("ab", 32); return r }(), false},
		{"sysgate's record of another container", signed(claim, "another"), false},
		{"sysgate's record of this container", signed(claim, "c1"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, _ := json.Marshal(tc.record)
			b, d := decideBundle(t, writeBundle(t, bundleConfig(map[string]string{bundle.AnnotationDecision: string(raw)}, rendered)), policy)
			out, _, err := b.Rendered(d.Applied(), nil)
			if err != nil {
				t.Fatal(err)
			}
			got := recorded(t, out)
			if kept := got.Source == "pod annotation"; kept != tc.kept {
				t.Errorf("record %+v: kept %v, want %v", got, kept, tc.kept)
			}
		})
	}
}

// checkUnknownFieldsKept compares what sysgate does not own, member by
// member, with the input.
func checkUnknownFieldsKept(t *testing.T, in string, out []byte) {
	t.Helper()
	inTop, outTop := fields(t, []byte(in)), fields(t, out)
	for key, raw := range inTop {
		if key == "linux" || key == "annotations" {
			continue
		}
		if got, want := compact(t, string(outTop[key])), compact(t, string(raw)); got != want {
			t.Errorf("%s: got %s, want %s", key, got, want)
		}
	}
	if len(outTop) != len(inTop) {
		t.Errorf("top-level members: got %d, want %d", len(outTop), len(inTop))
	}
	inLinux, outLinux := fields(t, inTop["linux"]), fields(t, outTop["linux"])
	for key, raw := range inLinux {
		if key == "seccomp" {
			continue
		}
		if got, want := compact(t, string(outLinux[key])), compact(t, string(raw)); got != want {
			t.Errorf("linux.%s: got %s, want %s", key, got, want)
		}
	}
	var inAnn, outAnn map[string]string
	json.Unmarshal(inTop["annotations"], &inAnn)
	json.Unmarshal(outTop["annotations"], &outAnn)
	for k, v := range inAnn {
		if k != bundle.AnnotationDecision && outAnn[k] != v {
			t.Errorf("annotation %s: got %q, want %q", k, outAnn[k], v)
		}
	}
}

func TestRendered(t *testing.T) {
	root, _ := decisionRoot(t)
	policy := DefaultPolicy()
	policy.ProfileRoot = root

	t.Run("node default sets linux.seccomp and records the decision", func(t *testing.T) {
		config := bundleConfig(nil, "")
		b, d := decideBundle(t, writeBundle(t, config), policy)
		out, changed, err := b.Rendered(d.Applied(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !changed {
			t.Error("changed = false")
		}
		checkUnknownFieldsKept(t, config, out)
		linux := fields(t, fields(t, out)["linux"])
		if got, want := string(linux["seccomp"]), mustMarshal(profile.RuntimeDefault(profile.DefaultCapabilities)); got != want {
			t.Errorf("linux.seccomp is not containerd's RuntimeDefault for the caps:\n%s", got)
		}
		// Spliced, not re-encoded: the member keeps its bytes.
		if string(linux["someFutureField"]) != `{"x": 1}` {
			t.Errorf("linux.someFutureField = %s", linux["someFutureField"])
		}
		want := bundle.Record{Source: "node default", Type: profile.TypeRuntimeDefault, Ref: "runtime/default", Digest: d.Digest}
		if got := recorded(t, out); got != want || !strings.HasPrefix(got.Digest, "sha256:") {
			t.Errorf("recorded %+v, want %+v", got, want)
		}
		vendor := string(fields(t, out)["vendorExtension"])
		if !strings.Contains(vendor, `18446744073709551615`) || !strings.Contains(vendor, `2.50`) || !strings.Contains(vendor, `"caf\u00e9"`) {
			t.Errorf("vendorExtension re-encoded: %s", vendor)
		}
		// The result is a valid spec with the decided profile.
		var s specs.Spec
		if err := json.Unmarshal(out, &s); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(s.Linux.Seccomp, profiletest.Normalize(d.Profile)) && !reflect.DeepEqual(s.Linux.Seccomp, d.Profile) {
			t.Error("the rendered spec's profile differs from the decision's")
		}
	})

	t.Run("Localhost from the Pod annotation", func(t *testing.T) {
		config := bundleConfig(map[string]string{keyPod: "localhost/profiles/audit.json"}, "")
		b, d := decideBundle(t, writeBundle(t, config), policy)
		out, changed, err := b.Rendered(d.Applied(), nil)
		if err != nil || !changed {
			t.Fatalf("changed %v, err %v", changed, err)
		}
		checkUnknownFieldsKept(t, config, out)
		if got := string(fields(t, fields(t, out)["linux"])["seccomp"]); got != mustMarshal(profiletest.AuditWant()) {
			t.Errorf("linux.seccomp = %s", got)
		}
		want := bundle.Record{Source: "pod annotation", Type: profile.TypeLocalhost, Ref: "localhost/profiles/audit.json", Digest: digestOf(profiletest.AuditWant())}
		if got := recorded(t, out); got != want {
			t.Errorf("recorded %+v, want %+v", got, want)
		}
	})

	t.Run("unconfined leaves linux.seccomp out", func(t *testing.T) {
		config := bundleConfig(map[string]string{keyPod: "unconfined"}, "")
		b, d := decideBundle(t, writeBundle(t, config), policy)
		out, changed, err := b.Rendered(d.Applied(), nil)
		if err != nil || !changed {
			t.Fatalf("changed %v, err %v", changed, err)
		}
		checkUnknownFieldsKept(t, config, out)
		if _, ok := fields(t, fields(t, out)["linux"])["seccomp"]; ok {
			t.Error("linux.seccomp present for an unconfined decision")
		}
		want := bundle.Record{Source: "pod annotation", Type: profile.TypeUnconfined, Ref: "unconfined"}
		if got := recorded(t, out); got != want {
			t.Errorf("recorded %+v, want %+v", got, want)
		}
	})

	t.Run("unconfined removes a profile that is there", func(t *testing.T) {
		config := bundleConfig(nil, `{"defaultAction": "SCMP_ACT_ERRNO"}`)
		b, err := bundle.ReadBundle(writeBundle(t, config))
		if err != nil {
			t.Fatal(err)
		}
		out, changed, err := b.Rendered(Decision{Source: "privileged policy", Type: profile.TypeUnconfined, Ref: "unconfined"}.Applied(), nil)
		if err != nil || !changed {
			t.Fatalf("changed %v, err %v", changed, err)
		}
		checkUnknownFieldsKept(t, config, out)
		if _, ok := fields(t, fields(t, out)["linux"])["seccomp"]; ok {
			t.Errorf("linux.seccomp survived: %s", out)
		}
	})

	t.Run("spec row keeps the profile's bytes", func(t *testing.T) {
		raw := `{
      "defaultAction": "SCMP_ACT_ALLOW",
      "flags": [],
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "args": []}]
    }`
		config := bundleConfig(nil, raw)
		b, d := decideBundle(t, writeBundle(t, config), policy)
		if d.Source != "spec" || d.Type != profile.TypeRendered {
			t.Fatalf("decision %s/%s, want spec/Rendered", d.Source, d.Type)
		}
		out, _, err := b.Rendered(d.Applied(), nil)
		if err != nil {
			t.Fatal(err)
		}
		checkUnknownFieldsKept(t, config, out)
		got := compact(t, string(fields(t, fields(t, out)["linux"])["seccomp"]))
		if got != compact(t, raw) {
			t.Errorf("linux.seccomp = %s\nwant %s", got, compact(t, raw))
		}
		if !strings.Contains(got, `"flags":[]`) || !strings.Contains(got, `"args":[]`) {
			t.Errorf("empty arrays lost: %s", got)
		}
		want := bundle.Record{Source: "spec", Type: profile.TypeRendered, Ref: "(bundle)", Digest: d.Digest}
		if r := recorded(t, out); r != want {
			t.Errorf("recorded %+v, want %+v", r, want)
		}
	})

	t.Run("no linux section", func(t *testing.T) {
		config := `{"ociVersion": "1.2.0", "process": {"args": ["sh"], "cwd": "/"}}`
		b, d := decideBundle(t, writeBundle(t, config), policy)
		out, _, err := b.Rendered(d.Applied(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(fields(t, fields(t, out)["linux"])["seccomp"]); got != mustMarshal(profile.RuntimeDefault(nil)) {
			t.Errorf("linux.seccomp = %.80s...", got)
		}
	})
}

// TestRenderedIdempotent runs create twice on one bundle: the second
// decision, on the rewritten bundle, must change nothing.
func TestRenderedIdempotent(t *testing.T) {
	root, nodeDefault := decisionRoot(t)
	base := DefaultPolicy()
	base.ProfileRoot = root
	pretty := `{
      "defaultAction": "SCMP_ACT_ALLOW",
      "flags": [],
      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]
    }`
	for _, tc := range []struct {
		name        string
		annotations map[string]string
		seccomp     string
		policy      func(*Policy)
		source      string // of the first decision, which the record keeps
	}{
		{name: "node default", source: "node default"},
		{name: "node default with runtime_default", policy: func(p *Policy) { p.RuntimeDefault = nodeDefault }, source: "node default"},
		{name: "node default unconfined", policy: func(p *Policy) { p.Default = "unconfined" }, source: "node default"},
		{name: "Pod annotation Localhost", annotations: map[string]string{keyPod: "localhost/profiles/audit.json"}, source: "pod annotation"},
		{name: "container annotation", annotations: map[string]string{keyContainer + "app": "localhost/other.json"}, source: "container annotation"},
		{name: "Pod annotation unconfined", annotations: map[string]string{keyPod: "unconfined"}, source: "pod annotation"},
		{name: "CRI-O Localhost", annotations: map[string]string{keyCRIOProfile: filepath.Join(root, "other.json")}, source: "cri-o annotation"},
		{name: "sandbox", annotations: map[string]string{keyContainerdType: "sandbox"}, source: "sandbox"},
		{name: "rendered by the CRI, pretty-printed", seccomp: pretty, source: "spec"},
		{name: "containerd's RuntimeDefault rendered", seccomp: mustMarshal(profile.RuntimeDefault(profile.DefaultCapabilities)), source: "spec"},
		{name: "containerd's RuntimeDefault replaced by runtime_default", seccomp: mustMarshal(profile.RuntimeDefault(profile.DefaultCapabilities)),
			policy: func(p *Policy) { p.RuntimeDefault = nodeDefault }, source: "spec"},
		{name: "audit", policy: func(p *Policy) { p.Audit = true }, source: "node default"},
		{name: "audit on a rendered profile", seccomp: mustMarshal(profile.RuntimeDefault(profile.DefaultCapabilities)), policy: func(p *Policy) { p.Audit = true }, source: "spec"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			policy := base
			if tc.policy != nil {
				tc.policy(&policy)
			}
			dir := writeBundle(t, bundleConfig(tc.annotations, tc.seccomp))

			b1, d1 := decideBundle(t, dir, policy)
			out1, changed1, err := b1.Rendered(d1.Applied(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !changed1 {
				t.Error("first create: changed = false")
			}
			if err := b1.WriteConfig(out1); err != nil {
				t.Fatal(err)
			}
			first := recorded(t, out1)
			if first.Source != tc.source {
				t.Errorf("first decision recorded source %q, want %q", first.Source, tc.source)
			}

			b2, d2 := decideBundle(t, dir, policy)
			if !bytes.Equal(b2.Raw, out1) {
				t.Fatal("config.json on disk differs from what was written")
			}
			out2, changed2, err := b2.Rendered(d2.Applied(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if changed2 || !bytes.Equal(out2, out1) {
				t.Errorf("second create changed the bundle (changed=%v)\nfirst:  %s\nsecond: %s", changed2, out1, out2)
			}
			if d2.Digest != d1.Digest || d2.Audit != d1.Audit {
				t.Errorf("second decision digest %q audit %v, first %q %v", d2.Digest, d2.Audit, d1.Digest, d1.Audit)
			}
			if second := recorded(t, out2); second != first {
				t.Errorf("record changed: %+v -> %+v", first, second)
			}
			if !reflect.DeepEqual(normalizeOrNil(b2.Spec.Linux.Seccomp), normalizeOrNil(d1.Profile)) {
				t.Error("the profile in the rewritten bundle is not the decided one")
			}
		})
	}
}

func normalizeOrNil(p *specs.LinuxSeccomp) *specs.LinuxSeccomp {
	if p == nil {
		return nil
	}
	return profiletest.Normalize(p)
}

func TestWriteConfig(t *testing.T) {
	for _, mode := range []os.FileMode{0o600, 0o640, 0o644, 0o444} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := writeBundle(t, bundleConfig(nil, ""))
			path := filepath.Join(dir, "config.json")
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
				t.Fatal(err)
			}
			b, d := decideBundle(t, dir, DefaultPolicy())
			out, _, err := b.Rendered(d.Applied(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.WriteConfig(out); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != mode || !st.Mode().IsRegular() {
				t.Errorf("mode %v, want %v", st.Mode(), mode)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if !reflect.DeepEqual(names, []string{"config.json", "rootfs"}) {
				t.Errorf("bundle holds %v, want only config.json and rootfs", names)
			}
			data, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(data, out) {
				t.Errorf("config.json is not what was written (%v)", err)
			}
			again, err := bundle.ReadBundle(dir)
			if err != nil {
				t.Fatalf("the rewritten config.json does not parse: %v", err)
			}
			if again.Spec.Linux == nil || again.Spec.Linux.Seccomp == nil || again.Spec.Annotations[bundle.AnnotationDecision] == "" {
				t.Error("the rewritten config.json lacks the decision")
			}
		})
	}
	t.Run("keeps mode, owner and group", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "config.json")
		if err := os.WriteFile(path, []byte(`{"ociVersion":"1.0.2"}`), 0o640); err != nil {
			t.Fatal(err)
		}
		uid, gid := os.Getuid(), os.Getgid()
		if uid == 0 {
			uid, gid = 1234, 5678 // as root, prove an owner that is not the writer's is kept
			if err := os.Chown(path, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
		b, err := bundle.ReadBundle(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if err := b.WriteConfig([]byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(path, &st); err != nil {
			t.Fatal(err)
		}
		if st.Mode&0o7777 != 0o640 || int(st.Uid) != uid || int(st.Gid) != gid {
			t.Errorf("config.json mode %o owner %d:%d, want 640 %d:%d", st.Mode&0o7777, st.Uid, st.Gid, uid, gid)
		}
	})
	t.Run("missing bundle directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "gone")
		_, err := bundle.ReadBundle(dir)
		if err == nil || !strings.Contains(err.Error(), "bundle "+dir) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("failed rename leaves no temporary file", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{}`), 0o644); err != nil {
			t.Fatal(err)
		}
		b, err := bundle.ReadBundle(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		// config.json becomes a non-empty directory: rename onto it fails.
		os.Remove(filepath.Join(dir, "config.json"))
		if err := os.MkdirAll(filepath.Join(dir, "config.json", "x"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := b.WriteConfig([]byte(`{}`)); err == nil {
			t.Fatal("no error")
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 || entries[0].Name() != "config.json" {
			t.Errorf("bundle holds %v after the failure", entries)
		}
	})
}

// The bundle is what the kernel resolves, not what the path says as text:
// "top/link/../b" with link -> elsewhere/deep is elsewhere/b, the directory
// a runtime's chdir reaches, while filepath.Clean would say top/b.
func TestOpenBundleResolvesAsTheKernel(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"top/b", "elsewhere/deep", "elsewhere/b"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "top/b/config.json"), []byte(`{"hostname":"decoy"}`), 0o644)
	os.WriteFile(filepath.Join(root, "elsewhere/b/config.json"), []byte(`{"hostname":"real"}`), 0o644)
	if err := os.Symlink(filepath.Join(root, "elsewhere/deep"), filepath.Join(root, "top/link")); err != nil {
		t.Fatal(err)
	}
	b, err := bundle.ReadBundle(filepath.Join(root, "top") + "/link/../b")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Spec.Hostname != "real" || b.Dir != filepath.Join(root, "elsewhere/b") {
		t.Errorf("read %q from %s, want the config.json of %s", b.Spec.Hostname, b.Dir, filepath.Join(root, "elsewhere/b"))
	}
	// Relative to a directory descriptor (the helper's view of a client's
	// working directory), "..": the same.
	at, err := os.Open(filepath.Join(root, "top/link"))
	if err != nil {
		t.Fatal(err)
	}
	defer at.Close()
	rel, err := bundle.OpenBundle(at, "../b")
	if err != nil {
		t.Fatal(err)
	}
	defer rel.Close()
	if rel.Spec.Hostname != "real" {
		t.Errorf("relative to the descriptor: read %q, want real", rel.Spec.Hostname)
	}
	if err := rel.WriteConfig([]byte(`{"hostname":"rewritten"}`)); err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(filepath.Join(root, "elsewhere/b/config.json")); string(raw) != `{"hostname":"rewritten"}` {
		t.Errorf("the write went elsewhere: %s", raw)
	}
	if raw, _ := os.ReadFile(filepath.Join(root, "top/b/config.json")); string(raw) != `{"hostname":"decoy"}` {
		t.Errorf("the decoy was changed: %s", raw)
	}
}

// config.json that is not a regular file is refused, at once.
func TestOpenBundleRefusesOddConfigFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(path string) error
		want string
	}{
		{"symbolic link", func(p string) error {
			os.WriteFile(p+".real", []byte(`{}`), 0o644)
			return os.Symlink(p+".real", p)
		}, "is a symbolic link"},
		{"FIFO", func(p string) error { return syscall.Mkfifo(p, 0o644) }, "is not a regular file"},
		{"directory", func(p string) error { return os.Mkdir(p, 0o755) }, "is not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := tc.make(filepath.Join(dir, "config.json")); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { _, err := bundle.ReadBundle(dir); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("err = %v, want %q", err, tc.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("ReadBundle blocked")
			}
		})
	}
}
