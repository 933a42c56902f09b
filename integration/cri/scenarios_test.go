package cri

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/profile"
)

// expect is what a container must run with.
type expect struct {
	filtered     bool   // Seccomp: 2 (else 0)
	mkdirBlocked bool   // `mkdir /tmp/test` says Operation not permitted
	rendered     bool   // containerd's own spec (crictl inspect) has linux.seccomp
	source       string // sysgate's decision row
	typ          string // sysgate's decision type
}

var (
	// audit.json rendered by containerd from the absolute localhost_ref.
	wantRenderedAudit = expect{filtered: true, mkdirBlocked: true, rendered: true, source: "spec", typ: "Rendered"}
)

// check compares what the container runs with against want, from every
// side: the host's /proc, /proc/1/status through exec, the seed's mkdir and
// ordinary commands, containerd's spec, the bundle and sysgate's decision.
func check(t *testing.T, d *daemon, name, id string, want expect) {
	t.Helper()
	o := d.observe(t, id)
	mode := "0"
	if want.filtered {
		mode = "2"
	}
	if o.HostSeccomp != mode || o.ExecSeccomp != mode {
		t.Errorf("%s: /proc/%d/status Seccomp %q, through exec %q; want %s", name, o.Pid, o.HostSeccomp, o.ExecSeccomp, mode)
	}
	if want.filtered && o.HostFilters != "1" {
		t.Errorf("%s: Seccomp_filters %q, want exactly one filter", name, o.HostFilters)
	}
	if !o.LsOK {
		t.Errorf("%s: ls / failed: an ordinary command must run", name)
	}
	if want.mkdirBlocked != o.mkdirEPERM() || want.mkdirBlocked == o.MkdirOK {
		t.Errorf("%s: mkdir /tmp/test: ok=%v %q; want blocked=%v with Operation not permitted", name, o.MkdirOK, o.Mkdir, want.mkdirBlocked)
	}
	if want.filtered && o.UnshareOK {
		t.Errorf("%s: unshare succeeded under a RuntimeDefault-based profile", name)
	}
	if (o.SpecSeccomp != nil) != want.rendered {
		t.Errorf("%s: crictl inspect shows linux.seccomp = %v, want present=%v", name, o.SpecSeccomp != nil, want.rendered)
	}
	if want.rendered && profileDigest(o.SpecSeccomp) != o.BundleDigest {
		t.Errorf("%s: sysgate changed the profile containerd rendered", name)
	}
	if (o.BundleSeccomp != nil) != want.filtered {
		t.Errorf("%s: bundle linux.seccomp present=%v, want %v", name, o.BundleSeccomp != nil, want.filtered)
	}
	if want.mkdirBlocked && o.BundleNamesMkdir {
		t.Errorf("%s: the bundle's profile allows mkdir, not audit.json", name)
	}
	if o.Decision.Source != want.source || o.Decision.Type != want.typ || o.Decision.Digest != o.BundleDigest {
		t.Errorf("%s: sysgate decided %+v (bundle digest %s); want source %q type %q", name, o.Decision, o.BundleDigest, want.source, want.typ)
	}
	t.Logf("%s: Seccomp %s, rendered by containerd %v, sysgate %s/%s %s, mkdir %q", name, o.HostSeccomp, o.SpecSeccomp != nil, o.Decision.Source, o.Decision.Type, o.Decision.Ref, strings.TrimSpace(o.Mkdir))
}

// sysgateHandlers are the handlers that must behave identically.
func sysgateHandlers(d *daemon) []string {
	if d.flavor.shimWorks {
		return []string{handlerSysgate, handlerShim}
	}
	return []string{handlerSysgate}
}

// TestSeedPods runs the seed document's Pods through the CRI as the kubelet
// sends them.
func TestSeedPods(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, d *daemon) {
		for _, h := range sysgateHandlers(d) {
			t.Run(h, func(t *testing.T) { seedPods(t, d, h) })
		}
	})
}

type podCase struct {
	name string
	pod  pod
	want map[string]expect // per container
}

func seedPods(t *testing.T, d *daemon, handler string) {
	// RuntimeDefault rendered by containerd and kept by sysgate; sysgate
	// records it as RuntimeDefault only when it is byte for byte the
	// profile sysgate knows (see TestRenderedRuntimeDefault).
	wantRenderedDefault := expect{filtered: true, rendered: true, source: "spec", typ: d.flavor.renderedDefaultType}
	nodeDefault := expect{filtered: true, source: "node default", typ: "RuntimeDefault"}
	cases := []podCase{
		{"secure-app: Pod-level RuntimeDefault",
			pod{Name: "secure-app", Seccomp: runtimeDefault, Containers: []container{{Name: "app"}}},
			map[string]expect{"app": wantRenderedDefault}},
		{"mixed-app: container-level RuntimeDefault and Localhost",
			pod{Name: "mixed-app", Containers: []container{{Name: "app", Seccomp: runtimeDefault}, {Name: "sidecar", Seccomp: auditProfile}}},
			map[string]expect{"app": wantRenderedDefault, "sidecar": wantRenderedAudit}},
		{"container level overrides Pod level",
			pod{Name: "override", Seccomp: auditProfile, Containers: []container{{Name: "app", Seccomp: runtimeDefault}, {Name: "sidecar"}}},
			map[string]expect{"app": wantRenderedDefault, "sidecar": wantRenderedAudit}},
		{"custom-seccomp: Pod-level Localhost profiles/audit.json",
			pod{Name: "custom-seccomp", Seccomp: auditProfile, Containers: []container{{Name: "app"}}},
			map[string]expect{"app": wantRenderedAudit}},
		{"a multi-architecture Localhost profile: other machines' sections left out",
			pod{Name: "multiarch", Seccomp: multiArch, Containers: []container{{Name: "app"}}},
			map[string]expect{"app": wantRenderedAudit}},
		{"Unconfined field and no field: the node default applies",
			// The kubelet sends Unconfined for both; containerd renders
			// nothing for either, so sysgate cannot tell them apart.
			pod{Name: "unconfined", Containers: []container{{Name: "explicit", Seccomp: unconfined}, {Name: "absent"}}},
			map[string]expect{"explicit": nodeDefault, "absent": nodeDefault}},
		{"annotations only",
			pod{Name: "annotated", Annotations: map[string]string{
				spec.AnnotationPodSeccomp:                     "localhost/profiles/audit.json",
				spec.AnnotationContainerSeccompPrefix + "app": "runtime/default",
			}, Containers: []container{{Name: "app"}, {Name: "sidecar"}}},
			map[string]expect{
				"app":     {filtered: true, source: "container annotation", typ: "RuntimeDefault"},
				"sidecar": {filtered: true, mkdirBlocked: true, source: "pod annotation", typ: "Localhost"},
			}},
		{"unconfined annotation opts out under the node default",
			pod{Name: "opt-out", Annotations: map[string]string{spec.AnnotationPodSeccomp: "unconfined"}, Containers: []container{{Name: "app"}}},
			map[string]expect{"app": {source: "pod annotation", typ: "Unconfined"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rp, err := d.runPod(t, handler, c.pod)
			if err != nil {
				t.Fatalf("%v\ncontainerd log:\n%s", err, d.logTail())
			}
			sandbox := d.decisions(t)[rp.ID]
			if sandbox.Source != "spec" || sandbox.Type != d.flavor.renderedDefaultType {
				t.Errorf("sandbox: sysgate decided %+v, want the RuntimeDefault the kubelet sends", sandbox)
			}
			for name, want := range c.want {
				check(t, d, name, rp.Containers[name], want)
			}
		})
	}
}

// TestErrorsReachCRI: what the kubelet (and so `kubectl describe pod`) sees
// when a container cannot be created.
func TestErrorsReachCRI(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, d *daemon) {
		t.Run("missing Localhost field: containerd refuses first", func(t *testing.T) {
			// containerd reads the absolute localhost_ref itself while it
			// builds the spec, before any runtime runs: the message is
			// containerd's, and it names the file.
			missing := &seccompField{Type: "Localhost", Localhost: "profiles/missing.json"}
			_, err := d.runPod(t, handlerSysgate, pod{Name: "missing-field", Containers: []container{{Name: "app", Seccomp: missing}}})
			want := filepath.Join(d.profileRoot, "profiles/missing.json")
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "crictl create") {
				t.Fatalf("want crictl create to fail naming %s; got %v", want, err)
			}
			t.Logf("%s says: %v", d.flavor.name, err)
		})
		for _, h := range sysgateHandlers(d) {
			t.Run(h, func(t *testing.T) {
				t.Run("missing Localhost annotation: sysgate refuses", func(t *testing.T) {
					_, err := d.runPod(t, h, pod{Name: "missing-annotation",
						Annotations: map[string]string{spec.AnnotationPodSeccomp: "localhost/profiles/missing.json"},
						Containers:  []container{{Name: "app"}}})
					want := []string{"sysgate", filepath.Join(d.profileRoot, "profiles/missing.json"), spec.AnnotationPodSeccomp, "crictl start"}
					assertErr(t, err, want)
				})
				t.Run("policy denies unconfined", func(t *testing.T) {
					d.writePolicy(t, `unconfined = "deny"`)
					defer d.writePolicy(t, "")
					_, err := d.runPod(t, h, pod{Name: "denied",
						Annotations: map[string]string{spec.AnnotationPodSeccomp: "unconfined"},
						Containers:  []container{{Name: "app"}}})
					assertErr(t, err, []string{"sysgate", `refusing to create container "app" of pod default/denied unconfined`, `unconfined = "deny"`})
				})
			})
		}
	})
}

func assertErr(t *testing.T, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("the Pod started; want an error containing %q", want)
	}
	// klog quotes err="..." in crictl's output; compare the unquoted text.
	msg := strings.ReplaceAll(err.Error(), `\"`, `"`)
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	t.Logf("crictl shows: %v", err)
}

// TestShimNeedsContainerd2: the sysgate shim is built on containerd 2.4's
// shim library; containerd 1.6 must refuse it visibly, not run Pods
// without sysgate.
func TestShimNeedsContainerd2(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, d *daemon) {
		if d.flavor.shimWorks {
			t.Skip("the shim works here (TestSeedPods/sysgate-shim)")
		}
		_, err := d.runPod(t, handlerShim, pod{Name: "shim-on-1x", Containers: []container{{Name: "app"}}})
		if err == nil {
			t.Fatal("containerd 1.6 ran a Pod on the sysgate shim")
		}
		if !strings.Contains(err.Error(), "crictl runp") {
			t.Errorf("want the sandbox to fail: %v", err)
		}
		t.Logf("%s says: %v", d.flavor.name, err)
	})
}

// TestRenderedRuntimeDefault compares the RuntimeDefault profile containerd
// renders with sysgate's profile.RuntimeDefault for the same capabilities.
// sysgate recognises containerd's rendering only when the two are equal
// (then the policy's runtime_default file replaces it); the difference is
// logged so that a containerd upgrade that changes its profile shows here.
func TestRenderedRuntimeDefault(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, d *daemon) {
		rp, err := d.runPod(t, handlerRunc, pod{Name: "rendered", Seccomp: runtimeDefault, Containers: []container{{Name: "app"}}})
		if err != nil {
			t.Fatal(err)
		}
		var inspect struct {
			Info struct {
				RuntimeSpec specs.Spec `json:"runtimeSpec"`
			} `json:"info"`
		}
		if err := json.Unmarshal([]byte(d.crictl(t, "inspect", "-o", "json", rp.Containers["app"])), &inspect); err != nil {
			t.Fatal(err)
		}
		s := inspect.Info.RuntimeSpec
		if s.Linux == nil || s.Linux.Seccomp == nil || s.Process == nil || s.Process.Capabilities == nil {
			t.Fatal("containerd rendered no RuntimeDefault profile")
		}
		ours := profile.RuntimeDefault(s.Process.Capabilities.Bounding)
		only, missing := allowedNames(s.Linux.Seccomp), allowedNames(ours)
		var extra, lacking []string
		for n := range only {
			if !missing[n] {
				extra = append(extra, n)
			}
		}
		for n := range missing {
			if !only[n] {
				lacking = append(lacking, n)
			}
		}
		slices.Sort(extra)
		slices.Sort(lacking)
		equal := profileDigest(s.Linux.Seccomp) == profileDigest(ours)
		t.Logf("%s RuntimeDefault: identical to sysgate's: %v; allows beyond it: %v; lacks: %v", d.flavor.name, equal, extra, lacking)
		if equal != (d.flavor.renderedDefaultType == "RuntimeDefault") {
			t.Errorf("%s: identical=%v, but the suite expects sysgate to record %q", d.flavor.name, equal, d.flavor.renderedDefaultType)
		}
	})
}

// allowedNames is every syscall name in an ALLOW rule, ignoring arguments.
func allowedNames(p *specs.LinuxSeccomp) map[string]bool {
	out := map[string]bool{}
	for _, s := range p.Syscalls {
		if s.Action == specs.ActAllow {
			for _, n := range s.Names {
				out[n] = true
			}
		}
	}
	return out
}
