package wrapper

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/spec"
)

// TestHelperRecordsAndHandsBack: what the helper prepares is recorded as
// its doing, and what must be said to the caller (a warning) still reaches
// the caller's stderr, because the helper hands such creates back.
func TestHelperRecordsAndHandsBack(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, rt runtime) {
		decisions := filepath.Join(t.TempDir(), "decisions.log")
		n := newNode(t, rt, "unconfined = \"audit\"\ndecision_log = \""+decisions+"\"")
		h := n.startHelper()

		r, _ := n.run(bundle.Options{Args: shell, Annotations: podAnnotations("default", "p", "app", nil)})
		if o := observe(t, r); o.seccomp != "2" || o.unshare {
			t.Fatalf("node default: %+v\n%s", o, r)
		}
		r, _ = n.run(bundle.Options{Args: shell, Annotations: podAnnotations("default", "p", "open",
			map[string]string{spec.AnnotationPodSeccomp: "unconfined"})})
		if o := observe(t, r); o.seccomp != "0" || !strings.Contains(r.stderr, "runs unconfined") {
			t.Fatalf("audited unconfined container: want Seccomp 0 and the warning on stderr; %+v\n%s", o, r)
		}
		if served, fellBack := h.Counts(); served != 1 || fellBack != 1 {
			t.Errorf("the helper served %d and handed back %d, want 1 and 1", served, fellBack)
		}
		var via []string
		f, err := os.Open(decisions)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for s := bufio.NewScanner(f); s.Scan(); {
			var rec struct {
				Via       string `json:"via"`
				Container struct {
					Name string `json:"name"`
				} `json:"container"`
			}
			if err := json.Unmarshal(s.Bytes(), &rec); err != nil {
				t.Fatal(err)
			}
			via = append(via, rec.Container.Name+":"+rec.Via)
		}
		if strings.Join(via, " ") != "app:helper open:" {
			t.Errorf("decision log (container:via) %q, want the first by the helper, the second by sysgate-runc", via)
		}
	})
}

// TestHelperUnavailable: a helper that is gone, serves another policy, or
// accepts and never answers costs time, never a container's filter.
func TestHelperUnavailable(t *testing.T) {
	requireRoot(t)
	rt := runtimes(t)[0]
	tests := []struct {
		name  string
		setup func(t *testing.T, n *node) string
	}{
		{"no socket", func(t *testing.T, n *node) string { return filepath.Join(t.TempDir(), "none.sock") }},
		{"a stale socket", func(t *testing.T, n *node) string {
			path := filepath.Join(t.TempDir(), "stale.sock")
			l, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: path, Net: "unixpacket"})
			if err != nil {
				t.Fatal(err)
			}
			l.SetUnlinkOnClose(false)
			l.Close()
			return path
		}},
		{"a helper of another policy", func(t *testing.T, n *node) string {
			other := newNode(t, rt, "default = \"unconfined\"")
			other.startHelper()
			return other.helperSocket
		}},
		{"a helper that never answers", func(t *testing.T, n *node) string {
			path := filepath.Join(t.TempDir(), "mute.sock")
			l, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: path, Net: "unixpacket"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					t.Cleanup(func() { c.Close() })
				}
			}()
			return path
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// This node's default is a Localhost profile; the other
			// policy's is unconfined, so serving this client with it
			// would show.
			n := newNode(t, rt, `default = "localhost/profiles/no-mkdir.json"`)
			n.addProfile("profiles/no-mkdir.json", noMkdir())
			n.helperSocket = tt.setup(t, n)
			start := time.Now()
			r, _ := n.run(bundle.Options{Args: shell, Annotations: podAnnotations("default", "p", "app", nil)})
			if o := observe(t, r); o.seccomp != "2" || !o.mkdirDeniedEPERM {
				t.Errorf("want the node default, a Localhost profile (mkdir: Operation not permitted); %+v\n%s", o, r)
			}
			t.Logf("container run in %v", time.Since(start).Round(time.Millisecond))
		})
	}
}
