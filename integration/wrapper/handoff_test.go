package wrapper

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/integration/probetest"
	specbundle "github.com/sysgate/sysgate/spec/bundle"
	"github.com/sysgate/sysgate/spec/profile"
)

// TestCrunHandoff: in front of crun, sysgate hands over its compiled
// program, so crun loads exactly one filter, sysgate's, with the ENOSYS
// stub crun lacks: an unknown syscall number gets ENOSYS as under runc,
// where crun compiling the same profile itself answers EPERM.
func TestCrunHandoff(t *testing.T) {
	requireRoot(t)
	var crun *runtime
	for _, rt := range runtimes(t) {
		if rt.name == "crun" {
			crun = &rt
		}
	}
	if crun == nil {
		t.Skip("crun is not installed (make deps installs it)")
	}
	probePath := probetest.BuildForTest(t)
	n := newNode(t, *crun, `runtime_kind = "crun"`)
	rd := profile.RuntimeDefault(profile.DefaultCapabilities)
	opts := bundle.Options{
		Args:    []string{"sh", "-c", "grep -E '^Seccomp(_filters)?:' /proc/self/status; /bin/sysgate-probe 1000"},
		Seccomp: rd,
		Files:   map[string]string{"/bin/sysgate-probe": probePath},
	}

	dir := n.bundle(opts)
	id := newID("handoff")
	r := n.cmd(false, "run", "--bundle", dir, id)
	n.cmd(true, "delete", "--force", id)
	if r.code != 0 || !strings.Contains(r.stdout, "Seccomp:\t2") || !strings.Contains(r.stdout, "Seccomp_filters:\t1") || !strings.Contains(r.stdout, `"errname":"ENOSYS"`) {
		t.Errorf("through sysgate-runc: want one filter and ENOSYS for nr 1000\n%s", r)
	}
	// The program in the bundle is the one sysgate compiled for the profile.
	var s struct{ Annotations map[string]string }
	data, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	json.Unmarshal(data, &s)
	raw, err := base64.StdEncoding.DecodeString(s.Annotations[specbundle.AnnotationCrunBPF])
	want, compileErr := filter.Compile(rd, filter.Options{})
	if err != nil || compileErr != nil || string(raw) != string(want.Bytes()) {
		t.Errorf("annotation %s: %d bytes (%v), want sysgate's %d-byte program (%v)", specbundle.AnnotationCrunBPF, len(raw), err, len(want.Bytes()), compileErr)
	}

	// The same bundle given to crun directly: crun compiles the profile
	// itself, without an ENOSYS stub.
	bare := n.bundle(opts)
	r = n.cmd(true, "run", "--bundle", bare, newID("bare"))
	if r.code != 0 || !strings.Contains(r.stdout, `"errname":"EPERM"`) {
		t.Errorf("crun alone: expected its known deviation (EPERM for nr 1000)\n%s", r)
	}
}

// TestClientBPFRemoved: a client-set run.oci.seccomp_bpf_data would make
// crun load it instead of the decided profile; sysgate removes it when it
// does not hand over its own, and always crun's listener-fd receiver and
// notify plugins (issue 13, item 11).
func TestClientBPFRemoved(t *testing.T) {
	requireRoot(t)
	rt := runtimes(t)[0]
	n := newNode(t, rt, `runtime_kind = "runc"`)
	dir := n.bundle(bundle.Options{Args: []string{"true"}, Annotations: map[string]string{specbundle.AnnotationCrunBPF: "AAAA",
		"run.oci.seccomp.receiver": "/tmp/evil.sock", "run.oci.seccomp.plugins": "/tmp/evil.so"}})
	id := newID("clientbpf")
	if r := n.cmd(false, "create", "--bundle", dir, id); r.code != 0 {
		t.Fatalf("create: %s", r)
	}
	n.cmd(true, "delete", "--force", id)
	data, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	for _, key := range []string{specbundle.AnnotationCrunBPF, "run.oci.seccomp.receiver", "run.oci.seccomp.plugins"} {
		if strings.Contains(string(data), key) {
			t.Errorf("the client's %s survived the rewrite", key)
		}
	}
}
