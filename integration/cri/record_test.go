package cri

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sysgate/sysgate/integration/helperproc"
	"github.com/sysgate/sysgate/shim/record"
	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/profile"
)

// A Pod recorded through the CRI (crictl, the handler the deploy snippet
// installs, which lets the record annotation through) in a namespace the
// policy lists: removing the Pod ends the recording, and the helper writes
// recordings/default/<pod>/app.json. In a namespace the policy does not
// list, the same annotation fails the create.
func TestRecordThroughCRI(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, d *daemon) {
		recordDir := filepath.Join(d.dir, "record")
		socket := filepath.Join(d.dir, "record.sock")
		policy := func(namespaces string) string {
			return fmt.Sprintf("record_namespaces = [%q]\nrecord_dir = %q\nrecord_socket = %q\n", namespaces, recordDir, socket)
		}
		d.writePolicy(t, policy("default"))
		// The helper starts its record server with the process: the
		// flavor's helper restarts for the edit, as under its unit
		// (the lean one gives way to sysgate helper), and back after.
		// A flavor without one gets a helper for the recordings alone.
		h := d.helper
		if h != nil {
			if err := h.Reload(d.policyPath); err != nil {
				t.Fatal(err)
			}
		} else {
			var err error
			h, err = helperproc.Start(filepath.Join(tools(t), "sysgate"), d.policyPath, filepath.Join(d.dir, "record-helper.sock"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := h.Stop(); err != nil {
					t.Errorf("helper: %v", err)
				}
			})
		}
		t.Cleanup(func() {
			d.writePolicy(t, "")
			if d.helper != nil {
				if err := d.helper.Reload(d.policyPath); err != nil {
					t.Error(err)
				}
			}
		})

		name := "rec-" + strings.ReplaceAll(d.flavor.name, ".", "-")
		rp, err := d.runPod(t, "sysgate", pod{Name: name, Annotations: map[string]string{spec.AnnotationRecord: "cri"}, Containers: []container{{
			Name:    "app",
			Command: []string{"sh", "-c", "echo hi > /tmp/f; cat /tmp/f; trap 'exit 0' TERM; while :; do sleep 1; done"},
		}}})
		if err != nil {
			t.Fatalf("%v\ncontainerd log:\n%s\nhelper log:\n%s", err, d.logTail(), h.Log())
		}
		time.Sleep(500 * time.Millisecond)
		d.crictl(t, "stopp", rp.ID)
		d.crictl(t, "rmp", rp.ID)
		path := filepath.Join(recordDir, "recordings", "default", name, "app.json")
		var data []byte
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && data == nil; time.Sleep(100 * time.Millisecond) {
			data, _ = os.ReadFile(path)
		}
		if data == nil {
			t.Fatalf("no recording at %s\nhelper log:\n%s", path, h.Log())
		}
		p, err := profile.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		meta, _ := record.ReadMetadata(data)
		names := p.Syscalls[0].Names
		t.Logf("%s: recorded %d syscalls (%d calls), image %q, runtime %q", d.flavor.name, len(names), meta.Records, meta.Image, meta.Runtime)
		for _, want := range []string{"execve", "openat", "write", "rt_sigreturn"} {
			if !slices.Contains(names, want) {
				t.Errorf("%s missing from %v", want, names)
			}
		}
		if meta.Container != "default/"+name+"/app" || meta.Image == "" || meta.Lost != 0 {
			t.Errorf("metadata %+v", meta)
		}

		d.writePolicy(t, policy("learning"))
		_, err = d.runPod(t, "sysgate", pod{Name: name + "-refused", Annotations: map[string]string{spec.AnnotationRecord: "cri"}, Containers: []container{{Name: "app"}}})
		if err == nil || !strings.Contains(err.Error(), "record_namespaces") {
			t.Errorf("the annotation outside record_namespaces: %v, want a refusal naming record_namespaces", err)
		}
	})
}
