package wrapper

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/shim"
	"github.com/sysgate/sysgate/spec"
)

// runtime is a real OCI runtime behind the wrapper.
type runtime struct {
	name string
	path string // what the policy's runtime key names
}

var (
	buildOnce   sync.Once
	wrapperPath string
	buildErr    error
	toolsDir    string
)

// requireRoot skips without root: creating containers needs it.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("sysgate-runc integration tests create containers and need root")
	}
	if _, err := os.Stat(bundle.BusyboxPath); err != nil {
		t.Skip("busybox-static is not installed (make deps installs it)")
	}
}

// wrapper builds sysgate-runc once per test binary.
func wrapper(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		toolsDir, buildErr = os.MkdirTemp("", "sysgate-wrapper-test-")
		if buildErr != nil {
			return
		}
		wrapperPath = filepath.Join(toolsDir, "sysgate-runc")
		// Built like `make build` (static), so benchmarks measure what ships.
		out, err := exec.Command("go", "build", "-tags", "netgo,osusergo", "-ldflags", "-linkmode external -extldflags -static",
			"-o", wrapperPath, "github.com/sysgate/sysgate/cmd/sysgate-runc").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build sysgate-runc: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return wrapperPath
}

var (
	sysgateOnce sync.Once
	sysgatePath string
	sysgateErr  error
)

// sysgateBinary builds the sysgate command (for `sysgate helper` as its own
// process) once per test binary.
func sysgateBinary(t testing.TB) string {
	t.Helper()
	wrapper(t) // makes toolsDir
	sysgateOnce.Do(func() {
		sysgatePath = filepath.Join(toolsDir, "sysgate")
		if out, err := exec.Command("go", "build", "-o", sysgatePath, "github.com/sysgate/sysgate/cmd/sysgate").CombinedOutput(); err != nil {
			sysgateErr = fmt.Errorf("go build sysgate: %v\n%s", err, out)
		}
	})
	if sysgateErr != nil {
		t.Fatal(sysgateErr)
	}
	return sysgatePath
}

// runtimes lists the runtimes to test behind the wrapper. crun 1.8.1
// refuses this machine's mixed cgroup v1/v2 layout, so it runs in a private
// mount namespace that sees only cgroup2, without cgroup management (which
// would need CAP_SYS_RESOURCE to load its device eBPF program).
func runtimes(t testing.TB) []runtime {
	t.Helper()
	wrapper(t)
	var rts []runtime
	if p, err := exec.LookPath("runc"); err == nil {
		rts = append(rts, runtime{"runc", p})
	}
	if _, err := exec.LookPath("crun"); err == nil {
		// The same script the conformance suite runs crun through.
		script, err := filepath.Abs("../../conformance/crun-private.sh")
		if err != nil {
			t.Fatal(err)
		}
		rts = append(rts, runtime{"crun", script})
	}
	if len(rts) == 0 {
		t.Skip("neither runc nor crun is installed (make deps installs both)")
	}
	return rts
}

// node is one test node: a policy file, a Localhost profile root and a
// runtime state directory.
type node struct {
	t           testing.TB
	rt          runtime
	policyPath  string
	profileRoot string
	stateRoot   string
	logPath     string
	// helperSocket is the helper sysgate-runc asks; empty: none, even if
	// this machine runs one.
	helperSocket string
	// cacheDir replaces the cache directory next to the policy.
	cacheDir string
}

func newNode(t testing.TB, rt runtime, policy string) *node {
	t.Helper()
	dir := t.TempDir()
	n := &node{
		t: t, rt: rt,
		policyPath:  filepath.Join(dir, "config.toml"),
		profileRoot: filepath.Join(dir, "seccomp"),
		stateRoot:   filepath.Join(dir, "state"),
		logPath:     filepath.Join(dir, "log.json"),
	}
	if err := os.MkdirAll(filepath.Join(n.profileRoot, "profiles"), 0o755); err != nil {
		t.Fatal(err)
	}
	n.writePolicy(policy)
	return n
}

func (n *node) writePolicy(extra string) {
	cache := n.cacheDir
	if cache == "" {
		cache = filepath.Join(filepath.Dir(n.policyPath), "cache")
	}
	body := fmt.Sprintf("runtime = %q\nprofile_root = %q\ncache_dir = %q\n%s\n", n.rt.path, n.profileRoot, cache, extra)
	if err := os.WriteFile(n.policyPath, []byte(body), 0o644); err != nil {
		n.t.Fatal(err)
	}
}

// startHelper runs a helper for this node's policy, in this process, until
// the test ends; sysgate-runc asks it from then on.
func (n *node) startHelper() *shim.Helper {
	n.t.Helper()
	socket := filepath.Join(n.t.TempDir(), "helper.sock")
	h, stop, err := shim.StartHelper(n.policyPath, socket)
	if err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() {
		if err := stop(); err != nil {
			n.t.Errorf("helper: %v", err)
		}
	})
	n.helperSocket = socket
	return h
}

// addProfile installs a Localhost profile under the profile root.
func (n *node) addProfile(rel string, p *specs.LinuxSeccomp) {
	data, err := json.Marshal(p)
	if err != nil {
		n.t.Fatal(err)
	}
	n.addProfileBytes(rel, data)
}

func (n *node) addProfileBytes(rel string, data []byte) {
	path := filepath.Join(n.profileRoot, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		n.t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		n.t.Fatal(err)
	}
}

// result of one runtime command.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}

// cmd runs the wrapper (or, with bare, the runtime itself) with --root and
// --log like containerd does. Output goes to files, not pipes: a created
// container keeps its stdio open.
func (n *node) cmd(bare bool, args ...string) result {
	n.t.Helper()
	return n.cmdIn("", bare, args...)
}

// cmdIn is cmd run from the working directory cwd ("": the test's).
func (n *node) cmdIn(cwd string, bare bool, args ...string) result {
	n.t.Helper()
	bin := wrapper(n.t)
	if bare {
		bin = n.rt.path
	}
	full := append([]string{"--root", n.stateRoot, "--log", n.logPath, "--log-format", "json"}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, bin, full...)
	c.Dir = cwd
	c.Env = append(os.Environ(), spec.PolicyPathEnv+"="+n.policyPath, shim.HelperSocketEnv+"="+n.helperSocket)
	dir := n.t.TempDir()
	stdout, _ := os.Create(filepath.Join(dir, "stdout"))
	stderr, _ := os.Create(filepath.Join(dir, "stderr"))
	c.Stdout, c.Stderr = stdout, stderr
	err := c.Run()
	stdout.Close()
	stderr.Close()
	res := result{}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		n.t.Fatalf("%s %v: %v", bin, args, err)
	}
	o, _ := os.ReadFile(filepath.Join(dir, "stdout"))
	e, _ := os.ReadFile(filepath.Join(dir, "stderr"))
	res.stdout, res.stderr = string(o), string(e)
	return res
}

var idCounter struct {
	sync.Mutex
	n int
}

func newID(prefix string) string {
	idCounter.Lock()
	defer idCounter.Unlock()
	idCounter.n++
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), idCounter.n)
}

// run creates a bundle and runs it to completion through the wrapper.
func (n *node) run(opts bundle.Options) (result, string) {
	n.t.Helper()
	dir := n.bundle(opts)
	id := newID("sg")
	res := n.cmd(false, "run", "--bundle", dir, id)
	n.cmd(true, "delete", "--force", id)
	return res, dir
}

func (n *node) bundle(opts bundle.Options) string {
	n.t.Helper()
	dir := n.t.TempDir()
	if _, err := bundle.Create(dir, opts); err != nil {
		n.t.Fatal(err)
	}
	return dir
}

// shell is a container command that reports its seccomp mode and tries
// mkdir, unshare and an ordinary command, one line each.
var shell = []string{"sh", "-c", `grep '^Seccomp:' /proc/self/status
mkdir /tmp/test 2>&1 && echo mkdir-ok
unshare -m true 2>&1 && echo unshare-ok
ls / >/dev/null && echo ls-ok`}

// observed is what shell printed.
type observed struct {
	seccomp          string // "0" or "2"
	mkdir, unshare   bool
	ls               bool
	mkdirDeniedEPERM bool
}

func observe(t *testing.T, r result) observed {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("container did not run: %s", r)
	}
	var o observed
	for _, line := range strings.Split(r.stdout, "\n") {
		switch {
		case strings.HasPrefix(line, "Seccomp:"):
			o.seccomp = strings.TrimSpace(strings.TrimPrefix(line, "Seccomp:"))
		case line == "mkdir-ok":
			o.mkdir = true
		case line == "unshare-ok":
			o.unshare = true
		case line == "ls-ok":
			o.ls = true
		case strings.Contains(line, "mkdir") && strings.Contains(line, "Operation not permitted"):
			o.mkdirDeniedEPERM = true
		}
	}
	return o
}

// fileUnchanged asserts config.json is byte-identical to what was given.
func fileUnchanged(t *testing.T, path string, before []byte) {
	t.Helper()
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Errorf("%s changed although create failed", path)
	}
}
