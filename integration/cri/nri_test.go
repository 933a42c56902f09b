package cri

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sysgate/sysgate/conformance/verify"
	"github.com/sysgate/sysgate/spec"
)

// The NRI daemon: containerd 2.x with NRI on a private socket, the default
// validator requiring the plugin "sysgate" (the operator's fail-closed
// setting, docs/deploy.md), and a handler runc-nri beside runc for the
// benchmark. tolerateMissing is a test-only escape: it lets a Pod show
// what containerd does with no plugin required. An operator must not set
// tolerate_missing_plugins_annotation: any Pod author could set it.
const (
	handlerRuncNRI  = "runc-nri"
	handlerCrunNRI  = "crun-nri" // crun through crun_test.go's wrapper; the plugin hands it the program
	tolerateMissing = "sysgate.test/tolerate-missing-plugins"
)

func nriFlavor() flavor {
	f := flavors()[1]
	f.name, f.nri = "containerd-2.x-nri", true
	return f
}

// nriBase turns the containerd 2.x base config into the NRI daemon's:
// deploy/containerd/nri-v3.toml, as an operator installs it, with the
// daemon's own socket and plugin directories, the test-only toleration,
// and the runc-nri handler.
func nriBase(base string) string {
	data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "containerd", "nri-v3.toml"))
	if err != nil {
		panic(err) // a missing snippet fails every NRI test at start
	}
	snippet := strings.NewReplacer(
		"socket_path = '/var/run/nri/nri.sock'", "socket_path = '{dir}/nri.sock'\n  plugin_path = '{dir}/nri/plugins'\n  plugin_config_path = '{dir}/nri/conf.d'",
		"required_plugins = ['sysgate']", "required_plugins = ['sysgate']\n    tolerate_missing_plugins_annotation = '"+tolerateMissing+"'",
	).Replace(string(data))
	return strings.Replace(base, `, "io.containerd.nri.v1.nri"`, "", 1) + "\n" + snippet + `
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc-nri]
  runtime_type = 'io.containerd.runc.v2'
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.crun-nri]
  runtime_type = 'io.containerd.runc.v2'
  [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.crun-nri.options]
    BinaryName = '{dir}/crun-cri'
`
}

// startNRIDaemon starts (once) the NRI daemon.
func startNRIDaemon(t testing.TB) *daemon {
	t.Helper()
	requireCRI(t)
	f := nriFlavor()
	if _, err := os.Stat(filepath.Join(f.dir, "containerd")); err != nil {
		t.Skipf("%s not built in %s (make test-cri builds it)", f.name, f.dir)
	}
	return startDaemon(t, f)
}

// nriPlugin is a running `sysgate nri`.
type nriPlugin struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// startPlugin runs `sysgate nri` against the daemon's NRI socket and waits
// until containerd has registered it; it is killed when the test ends.
func (d *daemon) startPlugin(t testing.TB) *nriPlugin {
	t.Helper()
	p := &nriPlugin{log: filepath.Join(d.dir, "nri.log"), done: make(chan struct{})}
	before := p.registrations()
	logf, err := os.OpenFile(p.log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(filepath.Join(tools(t), "sysgate"), "nri", "--socket", filepath.Join(d.dir, "nri.sock"), "--config", d.policyPath)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	start := time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(p.stop)
	p.waitRegistered(t, before, start)
	return p
}

// registrations counts the plugin's "registered" lines so far.
func (p *nriPlugin) registrations() int {
	data, _ := os.ReadFile(p.log)
	return bytes.Count(data, []byte("registered:"))
}

func (p *nriPlugin) waitRegistered(t testing.TB, before int, start time.Time) time.Duration {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); p.registrations() <= before; {
		select {
		case <-p.done:
			t.Fatalf("sysgate nri exited:\n%s", p.logTail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sysgate nri did not register:\n%s", p.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(start)
	// Synchronize has returned; containerd marks the plugin ready right after.
	time.Sleep(100 * time.Millisecond)
	return took
}

func (p *nriPlugin) signal(sig syscall.Signal) { p.cmd.Process.Signal(sig) }

func (p *nriPlugin) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGCONT)
	p.cmd.Process.Kill()
	<-p.done
}

func (p *nriPlugin) logTail() string {
	data, _ := os.ReadFile(p.log)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

// TestNRISeedPods runs the seed's Pods on the plain runc handler with the
// plugin: the plugin decides from the CRI's own request, and `crictl
// inspect` shows exactly the profile runc loaded (check's rendered: the
// spec containerd keeps has sysgate's profile, digest for digest).
func TestNRISeedPods(t *testing.T) {
	d := startNRIDaemon(t)
	d.writePolicy(t, "")
	d.startPlugin(t)
	criDefault := expect{filtered: true, rendered: true, source: "cri field", typ: "RuntimeDefault"}
	criAudit := expect{filtered: true, mkdirBlocked: true, rendered: true, source: "cri field", typ: "Localhost"}
	nodeDefault := expect{filtered: true, rendered: true, source: "node default", typ: "RuntimeDefault"}
	cases := []podCase{
		{"secure-app: Pod-level RuntimeDefault",
			pod{Name: "secure-app", Seccomp: runtimeDefault, Containers: []container{{Name: "app"}}},
			map[string]expect{"app": criDefault}},
		{"mixed-app: container-level RuntimeDefault and Localhost",
			pod{Name: "mixed-app", Containers: []container{{Name: "app", Seccomp: runtimeDefault}, {Name: "sidecar", Seccomp: auditProfile}}},
			map[string]expect{"app": criDefault, "sidecar": criAudit}},
		{"container level overrides Pod level",
			pod{Name: "override", Seccomp: auditProfile, Containers: []container{{Name: "app", Seccomp: runtimeDefault}, {Name: "sidecar"}}},
			map[string]expect{"app": criDefault, "sidecar": criAudit}},
		{"custom-seccomp: Pod-level Localhost profiles/audit.json",
			pod{Name: "custom-seccomp", Seccomp: auditProfile, Containers: []container{{Name: "app"}}},
			map[string]expect{"app": criAudit}},
		{"a multi-architecture Localhost profile",
			pod{Name: "multiarch", Seccomp: multiArch, Containers: []container{{Name: "app"}}},
			map[string]expect{"app": criAudit}},
		{"Unconfined field, no field: the node default (nri_unconfined_is_explicit off)",
			pod{Name: "unconfined", Containers: []container{{Name: "explicit", Seccomp: unconfined}, {Name: "absent", Seccomp: noCRIField}}},
			map[string]expect{"explicit": nodeDefault, "absent": nodeDefault}},
		{"annotations only",
			pod{Name: "annotated", Annotations: map[string]string{
				spec.AnnotationPodSeccomp:                     "localhost/profiles/audit.json",
				spec.AnnotationContainerSeccompPrefix + "app": "runtime/default",
			}, Containers: []container{{Name: "app"}, {Name: "sidecar"}}},
			map[string]expect{
				"app":     {filtered: true, rendered: true, source: "container annotation", typ: "RuntimeDefault"},
				"sidecar": {filtered: true, mkdirBlocked: true, rendered: true, source: "pod annotation", typ: "Localhost"},
			}},
		{"unconfined annotation opts out",
			pod{Name: "opt-out", Annotations: map[string]string{spec.AnnotationPodSeccomp: "unconfined"}, Containers: []container{{Name: "app"}}},
			map[string]expect{"app": {source: "pod annotation", typ: "Unconfined"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rp, err := d.runPod(t, handlerRunc, c.pod)
			if err != nil {
				t.Fatalf("%v\ncontainerd log:\n%s", err, d.logTail())
			}
			for name, want := range c.want {
				check(t, d, name, rp.Containers[name], want)
				if r := d.decisions(t)[rp.Containers[name]]; r.Via != spec.ViaNRI {
					t.Errorf("%s: decision log says via %q, want %q", name, r.Via, spec.ViaNRI)
				}
			}
		})
	}
}

// TestNRIExplicitUnconfined: with nri_unconfined_is_explicit (a kubelet
// with --seccomp-default sends Unconfined only when a Pod asks), the CRI's
// Unconfined is a request, told from a CRI request with no profile.
func TestNRIExplicitUnconfined(t *testing.T) {
	d := startNRIDaemon(t)
	d.startPlugin(t)
	defer d.writePolicy(t, "")
	p := pod{Name: "explicit", Containers: []container{{Name: "absent", Seccomp: noCRIField}, {Name: "explicit", Seccomp: unconfined}}}

	t.Run("deny refuses the explicit one, the node default fills the absent one", func(t *testing.T) {
		d.writePolicy(t, "nri_unconfined_is_explicit = true\nunconfined = \"deny\"")
		rp, err := d.runPod(t, handlerRunc, p)
		assertErr(t, err, []string{"crictl create explicit", "sysgate", `refusing to create container "explicit" of pod default/explicit unconfined: CRI field Unconfined asked for it`, `unconfined = "deny"`})
		check(t, d, "absent", rp.Containers["absent"], expect{filtered: true, rendered: true, source: "node default", typ: "RuntimeDefault"})
	})
	t.Run("an exempt namespace runs it unconfined", func(t *testing.T) {
		d.writePolicy(t, "nri_unconfined_is_explicit = true\nunconfined = \"deny\"\nexempt_namespaces = [\"default\"]")
		rp, err := d.runPod(t, handlerRunc, p)
		if err != nil {
			t.Fatal(err)
		}
		check(t, d, "absent", rp.Containers["absent"], expect{filtered: true, rendered: true, source: "node default", typ: "RuntimeDefault"})
		check(t, d, "explicit", rp.Containers["explicit"], expect{source: "cri field", typ: "Unconfined"})
	})
	t.Run("deny refuses the unconfined annotation too", func(t *testing.T) {
		d.writePolicy(t, "unconfined = \"deny\"")
		_, err := d.runPod(t, handlerRunc, pod{Name: "denied", Annotations: map[string]string{spec.AnnotationPodSeccomp: "unconfined"}, Containers: []container{{Name: "app"}}})
		assertErr(t, err, []string{"crictl create app", "sysgate", `refusing to create container "app" of pod default/denied unconfined`})
	})
}

// TestNRIErrorsReachCRI: the plugin's refusals are CreateContainer's error,
// which crictl (and the kubelet's Pod events) show.
func TestNRIErrorsReachCRI(t *testing.T) {
	d := startNRIDaemon(t)
	d.writePolicy(t, "")
	d.startPlugin(t)
	t.Run("missing Localhost annotation", func(t *testing.T) {
		_, err := d.runPod(t, handlerRunc, pod{Name: "missing-annotation",
			Annotations: map[string]string{spec.AnnotationPodSeccomp: "localhost/profiles/missing.json"},
			Containers:  []container{{Name: "app"}}})
		assertErr(t, err, []string{"crictl create app", "sysgate", filepath.Join(d.profileRoot, "profiles/missing.json"), spec.AnnotationPodSeccomp})
	})
	t.Run("missing Localhost field: containerd refuses before NRI", func(t *testing.T) {
		missing := &seccompField{Type: "Localhost", Localhost: "profiles/missing.json"}
		_, err := d.runPod(t, handlerRunc, pod{Name: "missing-field", Containers: []container{{Name: "app", Seccomp: missing}}})
		assertErr(t, err, []string{"crictl create app", filepath.Join(d.profileRoot, "profiles/missing.json")})
	})
	t.Run("Localhost field outside profile_root", func(t *testing.T) {
		// containerd loads any absolute localhost_ref; the plugin does not.
		data, err := os.ReadFile(filepath.Join(d.profileRoot, "profiles", "audit.json"))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(d.dir, "outside.json"), string(data))
		outside := &seccompField{Type: "Localhost", Localhost: "../outside.json"}
		_, err = d.runPod(t, handlerRunc, pod{Name: "outside", Containers: []container{{Name: "app", Seccomp: outside}}})
		assertErr(t, err, []string{"crictl create app", "sysgate", "is not a profile under the profile root " + d.profileRoot})
	})
	t.Run("a defaultErrnoRet NRI cannot carry", func(t *testing.T) {
		var p map[string]any
		data, _ := os.ReadFile(filepath.Join(d.profileRoot, "profiles", "audit.json"))
		json.Unmarshal(data, &p)
		p["defaultErrnoRet"] = 38
		data, _ = json.Marshal(p)
		writeFile(t, filepath.Join(d.profileRoot, "profiles", "enosys.json"), string(data))
		_, err := d.runPod(t, handlerRunc, pod{Name: "enosys", Seccomp: &seccompField{Type: "Localhost", Localhost: "profiles/enosys.json"}, Containers: []container{{Name: "app"}}})
		assertErr(t, err, []string{"crictl create app", "sysgate", "defaultErrnoRet is 38, which NRI cannot carry"})
	})
}

// timedPod is runPod with CreateContainer timed (crictl's own start
// included, the same in every state), for one container.
func (d *daemon) timedPod(t testing.TB, handler string, p pod) (id string, create time.Duration, err error) {
	t.Helper()
	return d.timedPodHook(t, handler, p, func() {})
}

// timedPodHook is timedPod calling beforeCreate right before CreateContainer.
func (d *daemon) timedPodHook(t testing.TB, handler string, p pod, beforeCreate func()) (id string, create time.Duration, err error) {
	t.Helper()
	dir := t.TempDir()
	sbPath := writeJSON(t, dir, "pod.json", sandboxConfig(p, dir))
	out, stderr, err := d.crictlErr("runp", "--runtime", handler, sbPath)
	if err != nil {
		t.Fatalf("crictl runp: %v: %s%s", err, out, stderr)
	}
	podID := strings.TrimSpace(out)
	t.Cleanup(func() { d.crictlErr("rmp", "-f", podID) })
	cPath := writeJSON(t, dir, "c.json", containerConfig(p, p.Containers[0], d.profileRoot))
	beforeCreate()
	start := time.Now()
	out, stderr, err = d.crictlErr("create", podID, cPath, sbPath)
	create = time.Since(start)
	if err != nil {
		return "", create, &crictlError{"create", stderr}
	}
	id = strings.TrimSpace(out)
	if out, stderr, err := d.crictlErr("start", id); err != nil {
		return id, create, &crictlError{"start", out + stderr}
	}
	return id, create, nil
}

type crictlError struct{ step, msg string }

func (e *crictlError) Error() string { return "crictl " + e.step + ": " + e.msg }

// seccompMode is the Seccomp: line of the container's PID 1, from the host.
func (d *daemon) seccompMode(t testing.TB, id string) string {
	t.Helper()
	var inspect struct {
		Info struct {
			Pid int `json:"pid"`
		} `json:"info"`
	}
	if err := json.Unmarshal([]byte(d.crictl(t, "inspect", "-o", "json", id)), &inspect); err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(inspect.Info.Pid), "status"))
	if err != nil {
		t.Fatal(err)
	}
	return statusField(string(status), "Seccomp")
}

// TestNRIFailureModes: what containerd 2.x does with creates while the
// plugin is killed, hung, killed mid-request and restarted, and that with
// the operator's fail-closed settings no container starts weaker than the
// policy: default_validator.required_plugins refuses creates while the
// plugin is not registered, and nri_required makes the sysgate handler
// refuse what containerd created without the plugin's adjustment (a hung
// or crashing plugin: containerd drops it and creates the container as it
// was, and the validator still counts it as present for that request).
//
// Each Pod asks for nothing a kubelet would render (Unconfined), so a
// container the plugin adjusted runs filtered (the node default) and one
// it did not runs with Seccomp 0.
func TestNRIFailureModes(t *testing.T) {
	d := startNRIDaemon(t)
	d.writePolicy(t, "")
	defer d.writePolicy(t, "")
	plugin := d.startPlugin(t)
	n := 0
	newPod := func(tolerate bool) pod {
		n++
		p := pod{Name: "fm-" + strconv.Itoa(n), Containers: []container{{Name: "app", Seccomp: unconfined}}}
		if tolerate {
			p.Annotations = map[string]string{tolerateMissing: "true"}
		}
		return p
	}
	expectMode := func(what, id, want string) {
		t.Helper()
		if got := d.seccompMode(t, id); got != want {
			t.Errorf("%s: Seccomp %s, want %s", what, got, want)
		}
	}
	companion := "no decision of the sysgate NRI plugin is in its bundle"

	id, took, err := d.timedPod(t, handlerRunc, newPod(false))
	if err != nil {
		t.Fatal(err)
	}
	expectMode("plugin running", id, "2")
	t.Logf("plugin running: create %v, adjusted (Seccomp 2)", took.Round(time.Millisecond))

	// Killed: the validator refuses; without it (tolerated) the container
	// is created as containerd rendered it.
	plugin.signal(syscall.SIGKILL)
	<-plugin.done
	time.Sleep(200 * time.Millisecond) // containerd notices the closed connection
	_, took, err = d.timedPod(t, handlerRunc, newPod(false))
	assertErr(t, err, []string{"crictl create", `required plugin "sysgate" not present`})
	t.Logf("plugin killed, required_plugins: create refused in %v", took.Round(time.Millisecond))
	id, took, err = d.timedPod(t, handlerRunc, newPod(true))
	if err != nil {
		t.Fatal(err)
	}
	expectMode("plugin killed, not required", id, "0")
	t.Logf("plugin killed, not required: create %v, UNADJUSTED (Seccomp 0): fail-open", took.Round(time.Millisecond))
	d.writePolicy(t, "nri_required = true")
	_, _, err = d.timedPod(t, handlerSysgate, newPod(true))
	assertErr(t, err, []string{"crictl start", "sysgate", companion})
	d.writePolicy(t, "")

	// Restarted: registered again, adjusted again.
	start := time.Now()
	plugin = d.startPlugin(t)
	t.Logf("plugin restarted: registered in %v", time.Since(start).Round(time.Millisecond))
	id, _, err = d.timedPod(t, handlerRunc, newPod(false))
	if err != nil {
		t.Fatal(err)
	}
	expectMode("plugin restarted", id, "2")

	// Hung: containerd waits plugin_request_timeout (2 s here), drops the
	// plugin and creates the container unadjusted; the validator passes it
	// (the plugin was registered when the request began).
	plugin.signal(syscall.SIGSTOP)
	id, took, err = d.timedPod(t, handlerRunc, newPod(false))
	if err != nil {
		t.Fatal(err)
	}
	expectMode("plugin hung, required", id, "0")
	t.Logf("plugin hung, required_plugins: create %v, UNADJUSTED (Seccomp 0): required_plugins does not catch a timeout", took.Round(time.Millisecond))
	_, took, err = d.timedPod(t, handlerRunc, newPod(false))
	assertErr(t, err, []string{"crictl create", `required plugin "sysgate" not present`})
	t.Logf("plugin hung, next create: refused in %v (containerd dropped it)", took.Round(time.Millisecond))
	// SIGCONT: the plugin finds its connection closed and registers again.
	before := plugin.registrations()
	start = time.Now()
	plugin.signal(syscall.SIGCONT)
	t.Logf("plugin resumed: registered again in %v", plugin.waitRegistered(t, before, start).Round(time.Millisecond))
	d.writePolicy(t, "nri_required = true")
	plugin.signal(syscall.SIGSTOP)
	_, took, err = d.timedPod(t, handlerSysgate, newPod(false))
	assertErr(t, err, []string{"crictl start", "sysgate", companion})
	t.Logf("plugin hung, sysgate handler with nri_required: create %v, start refused", took.Round(time.Millisecond))
	plugin.stop()

	// Killed mid-request: stopped, asked, then killed while containerd waits.
	d.writePolicy(t, "")
	plugin = d.startPlugin(t)
	killSoon := func() {
		plugin.signal(syscall.SIGSTOP)
		go func() { time.Sleep(700 * time.Millisecond); plugin.signal(syscall.SIGKILL) }()
	}
	id, took, err = d.timedPodHook(t, handlerRunc, newPod(false), killSoon)
	if err != nil {
		t.Fatal(err)
	}
	expectMode("plugin killed mid-request, required", id, "0")
	t.Logf("plugin killed mid-request, required_plugins: create %v, UNADJUSTED (Seccomp 0)", took.Round(time.Millisecond))
	<-plugin.done
	plugin = d.startPlugin(t)
	d.writePolicy(t, "nri_required = true")
	_, _, err = d.timedPodHook(t, handlerSysgate, newPod(false), killSoon)
	assertErr(t, err, []string{"crictl start", "sysgate", companion})
}

// TestNRICompanion: the sysgate handler behind the plugin keeps the
// plugin's decision (row nri plugin), and decides the sandbox itself.
func TestNRICompanion(t *testing.T) {
	d := startNRIDaemon(t)
	d.writePolicy(t, "nri_required = true")
	defer d.writePolicy(t, "")
	d.startPlugin(t)
	rp, err := d.runPod(t, handlerSysgate, pod{Name: "companion", Containers: []container{{Name: "app", Seccomp: runtimeDefault}, {Name: "sidecar", Seccomp: auditProfile}}})
	if err != nil {
		t.Fatal(err)
	}
	check(t, d, "app", rp.Containers["app"], expect{filtered: true, rendered: true, source: "nri plugin", typ: "RuntimeDefault"})
	check(t, d, "sidecar", rp.Containers["sidecar"], expect{filtered: true, mkdirBlocked: true, rendered: true, source: "nri plugin", typ: "Localhost"})
	if r := d.decisions(t)[rp.ID]; r.Source != "spec" {
		t.Errorf("sandbox: %+v, want sysgate-runc's own decision", r)
	}
}

// BenchmarkPodStartNRI is BenchmarkPodStart on the NRI daemon: the plain
// runc handler, the sysgate handler (BinaryName), the plugin on runc
// (handler runc-nri), and where crun is installed plain crun and the
// plugin on crun with the program handed over (crun-nri), rotating as
// there, medians and per-iteration ratios to runc (crun-nri also to
// crun). The plugin is registered throughout and scoped to runc-nri and
// crun-nri (nri_runtime_handlers), so the others pay only NRI's call to a
// plugin that adjusts nothing, as on a node where the plugin serves other
// handlers.
func BenchmarkPodStartNRI(b *testing.B) {
	d := startNRIDaemon(b)
	d.writePolicy(b, `nri_runtime_handlers = ["`+handlerRuncNRI+`", "`+handlerCrunNRI+`"]
nri_crun_handlers = ["`+handlerCrunNRI+`"]`)
	defer d.writePolicy(b, "")
	d.startPlugin(b)
	handlers := []string{handlerRunc, handlerSysgate, handlerRuncNRI}
	ratios := [][2]string{{handlerSysgate, handlerRunc}, {handlerRuncNRI, handlerRunc}}
	if d.crunPolicy != "" {
		handlers = append(handlers, handlerCrun, handlerCrunNRI)
		ratios = append(ratios, [2]string{handlerCrunNRI, handlerCrun}, [2]string{handlerCrun, handlerRunc})
	}
	podStartRounds(b, d, handlers, ratios)
	// The plugin adjusted each runc-nri container (and so was not skipped).
	var adjusted int
	for _, r := range d.decisions(b) {
		if r.Via == spec.ViaNRI {
			adjusted++
		}
	}
	if adjusted < b.N {
		b.Errorf("the plugin decided %d containers, want at least %d", adjusted, b.N)
	}
}

// TestNRIPrivileged: NRI passes no capabilities; the plugin recognises a
// privileged container by containerd's writable sysfs, and the policy's
// privileged key decides it, as under the handlers.
func TestNRIPrivileged(t *testing.T) {
	d := startNRIDaemon(t)
	defer d.writePolicy(t, "")
	d.startPlugin(t)
	run := func(t *testing.T, privileged bool) string {
		dir := t.TempDir()
		p := pod{Name: "priv", Containers: []container{{Name: "app", Seccomp: runtimeDefault}}}
		sb := sandboxConfig(p, dir)
		sb.Linux.SecurityContext.Privileged = privileged
		cc := containerConfig(p, p.Containers[0], d.profileRoot)
		cc.Linux.SecurityContext.Privileged = privileged
		sbPath, cPath := writeJSON(t, dir, "pod.json", sb), writeJSON(t, dir, "c.json", cc)
		podID := strings.TrimSpace(d.crictl(t, "runp", "--runtime", handlerRunc, sbPath))
		t.Cleanup(func() { d.crictlErr("rmp", "-f", podID) })
		id := strings.TrimSpace(d.crictl(t, "create", podID, cPath, sbPath))
		d.crictl(t, "start", id)
		return id
	}
	for _, c := range []struct {
		name, policy string
		privileged   bool
		mode, source string
		typ          string
	}{
		{"privileged, policy privileged = unconfined (the default)", "", true, "0", "privileged policy", "Unconfined"},
		{"privileged, policy privileged = runtime/default", `privileged = "runtime/default"`, true, "2", "privileged policy", "RuntimeDefault"},
		{"not privileged: the field", `privileged = "runtime/default"`, false, "2", "cri field", "RuntimeDefault"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d.writePolicy(t, c.policy)
			id := run(t, c.privileged)
			r := d.decisions(t)[id]
			if got := d.seccompMode(t, id); got != c.mode || r.Source != c.source || r.Type != c.typ {
				t.Errorf("Seccomp %s, decided %s %s; want %s, %s %s", got, r.Source, r.Type, c.mode, c.source, c.typ)
			}
		})
	}
}

// TestNRIPsAndVerify: sysgate ps and verify prove the plugin's containers
// on the plain runc handler hold the filter the plugin decided (the signed
// record is in the bundle, the decision in the log).
func TestNRIPsAndVerify(t *testing.T) {
	d := startNRIDaemon(t)
	d.writePolicy(t, "")
	d.startPlugin(t)
	rp, err := d.runPod(t, handlerRunc, pod{Name: "nri-psv", Containers: []container{{Name: "app", Seccomp: runtimeDefault}, {Name: "sidecar", Seccomp: auditProfile}, {Name: "none", Seccomp: unconfined}}})
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := d.sysgate(t, "ps")
	all, _ := d.sysgate(t, "verify", "--all")
	listed, verified := ps.byID(), all.byID()
	for name, id := range rp.Containers {
		r, v := listed[id], verified[id]
		if r == nil || v == nil {
			t.Errorf("%s (%s) is not listed by ps or verify", name, id)
			continue
		}
		t.Logf("%s: %s/%s %s, %s, seccomp %s:%d, ps %s, verify %s", name, r.Namespace, r.Pod, r.Name, r.Class, r.Seccomp, r.Filters, r.Status, v.Status)
		if r.Decision == nil || r.Status != verify.StatusEqual || v.Status != verify.StatusEqual {
			t.Errorf("%s: ps %s\nverify %s", name, dump(r), dump(v))
		}
	}
}

// TestNRICrunHandoff: in plugin mode, a handler listed in
// nri_crun_handlers gets the compiled program in run.oci.seccomp_bpf_data,
// and crun loads it: one filter, denying what RuntimeDefault and a
// Localhost profile deny, and `sysgate verify` finds it equal to the
// plugin's decision.
func TestNRICrunHandoff(t *testing.T) {
	d := startNRIDaemon(t)
	if d.crunPolicy == "" {
		t.Skip("crun is not installed")
	}
	d.writePolicy(t, `nri_crun_handlers = ["`+handlerCrunNRI+`"]`)
	defer d.writePolicy(t, "")
	d.startPlugin(t)
	rp, err := d.runPod(t, handlerCrunNRI, pod{Name: "nri-crun", Containers: []container{{Name: "app", Seccomp: runtimeDefault}, {Name: "sidecar", Seccomp: auditProfile}}})
	if err != nil {
		t.Fatalf("%v\ncontainerd log:\n%s", err, d.logTail())
	}
	for name, id := range rp.Containers {
		r := d.decisions(t)[id]
		if r.Via != spec.ViaNRI || !r.Handoff {
			t.Errorf("%s: decided via %q with handoff %v; want the plugin, handing crun the program", name, r.Via, r.Handoff)
		}
		o := d.observe(t, id)
		if o.HostSeccomp != "2" || o.HostFilters != "1" || o.UnshareOK {
			t.Errorf("%s: Seccomp %q, filters %q, unshare allowed %v; want one filter denying unshare", name, o.HostSeccomp, o.HostFilters, o.UnshareOK)
		}
		if want := name == "sidecar"; o.mkdirEPERM() != want {
			t.Errorf("%s: mkdir %q; want blocked=%v", name, o.Mkdir, want)
		}
		// By PID: crun keeps its state in its own format under the runc
		// shim's root, and here no cgroup; containerd's task directory
		// names the container.
		verified, _ := d.sysgate(t, "verify", strconv.Itoa(o.Pid))
		if v := verified.byID()[id]; v == nil || v.Status != verify.StatusEqual {
			t.Errorf("%s: verify %d: %+v; want the kernel's filter equal to the plugin's decision", name, o.Pid, verified)
			for _, c := range verified.Containers {
				t.Log(dump(c))
			}
		}
	}
	// The plugin plans crun-nri as crun and runc's handler as runc under
	// one policy runtime: a runc Pod after the crun one gets no flag runc
	// 1.1 refuses (the answer about flags was once kept per binary).
	rp, err = d.runPod(t, handlerRunc, pod{Name: "nri-runc-after-crun", Containers: []container{{Name: "app", Seccomp: runtimeDefault}}})
	if err != nil {
		t.Fatalf("a runc Pod after a crun one: %v", err)
	}
	check(t, d, "app", rp.Containers["app"], expect{filtered: true, rendered: true, source: "cri field", typ: "RuntimeDefault"})
}
