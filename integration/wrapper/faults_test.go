package wrapper

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/integration/helperproc"
	"github.com/sysgate/sysgate/integration/stats"
	"github.com/sysgate/sysgate/spec"
	specbundle "github.com/sysgate/sysgate/spec/bundle"
)

// Fault injection (issue 13): whatever fails or is killed during a create,
// the bundle is either untouched or fully rewritten with the decided
// profile, and no container runs weaker than decided.

// bundleOutcome classifies config.json after a create that may have been
// interrupted: "untouched" (byte-identical), "rewritten" (a valid spec whose
// linux.seccomp is exactly the profile its decision record names, and the
// digest wanted), or it fails the test.
func bundleOutcome(t *testing.T, dir string, original []byte, policy spec.Policy, wantDigest string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	if bytes.Equal(raw, original) {
		return "untouched"
	}
	var s struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s: config.json torn: %v", dir, err)
	}
	var record struct{ Digest string }
	if err := json.Unmarshal([]byte(s.Annotations[specbundle.AnnotationDecision]), &record); err != nil {
		t.Fatalf("%s: rewritten without a decision record: %v", dir, err)
	}
	d := decisionFor(t, dir, policy)
	if d.Digest != record.Digest || d.Digest != wantDigest {
		t.Fatalf("%s: linux.seccomp has digest %s, its record says %s, the decision was %s", dir, d.Digest, record.Digest, wantDigest)
	}
	return "rewritten"
}

// decidedDigest is what the node decides for a bundle that asks for nothing.
func decidedDigest(t *testing.T, n *node, dir string) (spec.Policy, string) {
	t.Helper()
	policy, err := spec.LoadPolicy(n.policyPath)
	if err != nil {
		t.Fatal(err)
	}
	return policy, decisionFor(t, dir, policy).Digest
}

// decisionFor is what the node decides for the bundle in dir as it is now.
func decisionFor(t *testing.T, dir string, policy spec.Policy) spec.Decision {
	t.Helper()
	b, err := specbundle.ReadBundle(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	d, err := spec.Decide("check", b.Spec, policy)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// smallTmpfs mounts a tmpfs of size bytes for the test.
func smallTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0755"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// fill writes to a file in dir until the file system is full.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			return
		}
	}
}

func TestFaultDiskFull(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, rt runtime) {
		t.Run("under the bundle", func(t *testing.T) {
			n := newNode(t, rt, "")
			// The root file system lives elsewhere: only config.json and
			// its rewrite need room on the full tmpfs.
			rootfs := n.bundle(bundle.Options{Args: shell})
			dir := smallTmpfs(t, "64k")
			s := bundle.Spec(bundle.Options{Args: shell})
			s.Root.Path = filepath.Join(rootfs, "rootfs")
			original, _ := json.Marshal(s)
			if err := os.WriteFile(filepath.Join(dir, "config.json"), original, 0o644); err != nil {
				t.Fatal(err)
			}
			fill(t, dir)
			id := newID("full")
			r := n.cmd(false, "run", "--bundle", dir, id)
			n.cmd(true, "delete", "--force", id)
			if r.code != 3 || strings.Contains(r.stdout, "Seccomp:") || !strings.Contains(r.stderr, "no space left on device") {
				t.Errorf("want an internal fault (exit 3) naming the full disk: %s", r)
			}
			fileUnchanged(t, filepath.Join(dir, "config.json"), original)
			if matches, _ := filepath.Glob(filepath.Join(dir, ".config.json.sysgate-*")); len(matches) != 0 {
				t.Errorf("temporary files left behind: %v", matches)
			}
		})
		t.Run("under the cache", func(t *testing.T) {
			cache := filepath.Join(smallTmpfs(t, "16k"), "bpf")
			if err := os.Mkdir(cache, 0o700); err != nil {
				t.Fatal(err)
			}
			fill(t, filepath.Dir(cache))
			assertConfinedWithCache(t, rt, cache)
		})
	})
}

func TestFaultReadOnlyCache(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, rt runtime) {
		cache := t.TempDir()
		if err := syscall.Mount(cache, cache, "", syscall.MS_BIND, ""); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Unmount(cache, syscall.MNT_DETACH) })
		if err := syscall.Mount("", cache, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
			t.Fatal(err)
		}
		assertConfinedWithCache(t, rt, cache)
	})
}

// assertConfinedWithCache runs a container on a node whose cache_dir is
// cache, which cannot be written: the container still gets its filter.
func assertConfinedWithCache(t *testing.T, rt runtime, cache string) {
	t.Helper()
	n := newNode(t, rt, "")
	n.cacheDir = cache
	n.writePolicy("")
	r, _ := n.run(bundle.Options{Args: shell})
	assertConfined(t, r)
}

func TestFaultRuntime(t *testing.T) {
	requireRoot(t)
	t.Run("missing", func(t *testing.T) {
		n := newNode(t, runtime{"missing", "/nonexistent/runc"}, "")
		dir := n.bundle(bundle.Options{Args: shell})
		before, _ := os.ReadFile(filepath.Join(dir, "config.json"))
		r := n.cmd(false, "run", "--bundle", dir, newID("missing"))
		if r.code != 3 || !strings.Contains(r.stderr, `the real OCI runtime "/nonexistent/runc" cannot be run`) {
			t.Errorf("%s", r)
		}
		fileUnchanged(t, filepath.Join(dir, "config.json"), before)
	})
	t.Run("crashing", func(t *testing.T) {
		crash := filepath.Join(t.TempDir(), "crashing-runtime")
		if err := os.WriteFile(crash, []byte("#!/bin/sh\nkill -SEGV $$\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		n := newNode(t, runtime{"crashing", crash}, "")
		dir := n.bundle(bundle.Options{Args: shell})
		before, _ := os.ReadFile(filepath.Join(dir, "config.json"))
		policy, want := decidedDigest(t, n, dir)
		r := n.cmd(false, "run", "--bundle", dir, newID("crash"))
		// sysgate-runc became the runtime (exec), so the caller sees the
		// runtime's own death by SIGSEGV (exit code -1 from os/exec).
		if r.code != -1 || strings.Contains(r.stdout, "Seccomp:") {
			t.Errorf("want the runtime's own death by a signal and no container: %s", r)
		}
		// sysgate's work was done before the runtime ran: fully rewritten.
		if got := bundleOutcome(t, dir, before, policy, want); got != "rewritten" {
			t.Errorf("bundle %s", got)
		}
	})
}

// TestFaultKilled: sysgate-runc killed with SIGKILL at random points of its
// create, and the helper killed while creates are in flight. The fake
// runtime (true) starts nothing: what is checked is every bundle.
func TestFaultKilled(t *testing.T) {
	requireRoot(t)
	fake := runtime{"true", "/bin/true"}
	t.Run("sysgate-runc", func(t *testing.T) {
		n := newNode(t, fake, "")
		template := n.bundle(bundle.Options{Args: shell})
		original, _ := os.ReadFile(filepath.Join(template, "config.json"))
		policy, want := decidedDigest(t, n, template)
		fresh := func() string {
			dir := filepath.Join(t.TempDir(), "b")
			os.Mkdir(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "config.json"), original, 0o644)
			return dir
		}
		create := func(dir, id string) *exec.Cmd {
			cmd := exec.Command(wrapper(t), "create", "--bundle", dir, id)
			cmd.Env = append(os.Environ(), spec.PolicyPathEnv+"="+n.policyPath, "SYSGATE_HELPER_SOCKET=")
			return cmd
		}
		// The kills are spread over 0 to 1.5 times an uninterrupted create
		// on this machine, however loaded it is, so that they land before,
		// during and after the rewrite.
		var took []float64
		for i := range 5 {
			start := time.Now()
			if out, err := create(fresh(), fmt.Sprintf("warm%d", i)).CombinedOutput(); err != nil {
				t.Fatalf("create: %v\n%s", err, out)
			}
			took = append(took, float64(time.Since(start)))
		}
		window := time.Duration(1.5 * stats.Median(took))
		counts := map[string]int{}
		for i := range 150 {
			dir := fresh()
			cmd := create(dir, fmt.Sprintf("k%d", i))
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Duration(rand.Int64N(int64(window))))
			cmd.Process.Kill()
			cmd.Wait()
			counts[bundleOutcome(t, dir, original, policy, want)]++
		}
		t.Logf("150 creates killed at random within %s: %v", window.Round(time.Millisecond), counts)
		if counts["untouched"] == 0 || counts["rewritten"] == 0 {
			t.Errorf("the kills did not cover both sides of the rewrite: %v", counts)
		}
	})
	t.Run("the helper", func(t *testing.T) {
		n := newNode(t, fake, "")
		socket := filepath.Join(t.TempDir(), "helper.sock")
		h, err := helperproc.Start(sysgateBinary(t), n.policyPath, socket)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Stop()
		n.helperSocket = socket
		template := n.bundle(bundle.Options{Args: shell})
		original, _ := os.ReadFile(filepath.Join(template, "config.json"))
		policy, want := decidedDigest(t, n, template)
		var wg sync.WaitGroup
		dirs := make([]string, 60)
		failed := make([]string, len(dirs))
		for i := range dirs {
			dirs[i] = filepath.Join(t.TempDir(), "b")
			os.Mkdir(dirs[i], 0o755)
			os.WriteFile(filepath.Join(dirs[i], "config.json"), original, 0o644)
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(i) * time.Millisecond)
				cmd := exec.Command(wrapper(t), "create", "--bundle", dirs[i], fmt.Sprintf("h%d", i))
				cmd.Env = append(os.Environ(), spec.PolicyPathEnv+"="+n.policyPath, "SYSGATE_HELPER_SOCKET="+socket)
				if out, err := cmd.CombinedOutput(); err != nil {
					failed[i] = fmt.Sprintf("%v: %s", err, out)
				}
			}()
		}
		time.Sleep(30 * time.Millisecond)
		h.Kill()
		wg.Wait()
		for i, dir := range dirs {
			if failed[i] != "" {
				t.Errorf("create %d failed after the helper died: %s", i, failed[i])
			}
			if got := bundleOutcome(t, dir, original, policy, want); got != "rewritten" {
				t.Errorf("create %d: bundle %s", i, got)
			}
		}
	})
}

// TestFaultPolicyReplaced: the policy file is replaced (atomically, as
// config management does) between two valid policies while creates run;
// each bundle gets one policy's profile whole, and the decision log says
// which.
func TestFaultPolicyReplaced(t *testing.T) {
	requireRoot(t)
	n := newNode(t, runtime{"true", "/bin/true"}, "")
	n.addProfile("profiles/no-mkdir.json", noMkdir())
	logPath := filepath.Join(t.TempDir(), "decisions.jsonl")
	policies := [2][]byte{}
	for i, extra := range []string{"", `default = "localhost/profiles/no-mkdir.json"`} {
		n.writePolicy(fmt.Sprintf("decision_log = %q\n%s", logPath, extra))
		policies[i], _ = os.ReadFile(n.policyPath)
	}
	template := n.bundle(bundle.Options{Args: shell})
	original, _ := os.ReadFile(filepath.Join(template, "config.json"))
	digests := map[string]bool{}
	for _, p := range policies {
		os.WriteFile(n.policyPath, p, 0o644)
		_, d := decidedDigest(t, n, template)
		digests[d] = true
	}
	ctx, cancel := context.WithCancel(context.Background())
	swapped := make(chan int)
	go func() {
		swaps := 0
		for ctx.Err() == nil {
			tmp := n.policyPath + ".new"
			os.WriteFile(tmp, policies[swaps%2], 0o644)
			os.Rename(tmp, n.policyPath)
			swaps++
			time.Sleep(500 * time.Microsecond)
		}
		swapped <- swaps
	}()
	const creates = 100
	for i := range creates {
		dir := filepath.Join(t.TempDir(), "b")
		os.Mkdir(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "config.json"), original, 0o644)
		if r := n.cmd(false, "create", "--bundle", dir, fmt.Sprintf("p%d", i)); r.code != 0 {
			t.Fatalf("create %d: %s", i, r)
		}
		raw, _ := os.ReadFile(filepath.Join(dir, "config.json"))
		var s struct{ Annotations map[string]string }
		json.Unmarshal(raw, &s)
		var rec struct{ Digest string }
		json.Unmarshal([]byte(s.Annotations[specbundle.AnnotationDecision]), &rec)
		if !digests[rec.Digest] {
			t.Errorf("create %d: profile %s is neither policy's", i, rec.Digest)
		}
	}
	cancel()
	t.Logf("%d creates while the policy was replaced %d times", creates, <-swapped)
	lines := strings.Split(strings.TrimSpace(readFile(t, logPath)), "\n")
	if len(lines) != creates {
		t.Fatalf("%d decision log lines, want %d", len(lines), creates)
	}
	for _, l := range lines {
		var rec struct{ Digest string }
		if json.Unmarshal([]byte(l), &rec) != nil || !digests[rec.Digest] {
			t.Errorf("decision log line %q names neither policy's profile", l)
		}
	}
}

// TestFaultManyConcurrentCreates: 1,000 creates, 200 at a time (each is a
// Go process; all 1,000 at once would need ~10 GB), through one cache and
// one decision log: every bundle is rewritten whole, and the log has one
// whole line per create.
func TestFaultManyConcurrentCreates(t *testing.T) {
	requireRoot(t)
	if testing.Short() {
		t.Skip("-short: 1,000 processes")
	}
	n := newNode(t, runtime{"true", "/bin/true"}, "")
	logPath := filepath.Join(t.TempDir(), "decisions.jsonl")
	n.writePolicy(fmt.Sprintf("decision_log = %q", logPath))
	template := n.bundle(bundle.Options{Args: shell})
	original, _ := os.ReadFile(filepath.Join(template, "config.json"))
	policy, want := decidedDigest(t, n, template)
	const creates, inFlight = 1000, 200
	dirs := make([]string, creates)
	errs := make([]string, creates)
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range dirs {
		dirs[i] = filepath.Join(t.TempDir(), "b")
		os.Mkdir(dirs[i], 0o755)
		os.WriteFile(filepath.Join(dirs[i], "config.json"), original, 0o644)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			cmd := exec.Command(wrapper(t), "create", "--bundle", dirs[i], fmt.Sprintf("c%d", i))
			cmd.Env = append(os.Environ(), spec.PolicyPathEnv+"="+n.policyPath, "SYSGATE_HELPER_SOCKET=")
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Sprintf("%v: %s", err, out)
			}
		}()
	}
	wg.Wait()
	t.Logf("%d creates, %d at a time, in %s", creates, inFlight, time.Since(start).Round(time.Millisecond))
	for i, dir := range dirs {
		if errs[i] != "" {
			t.Fatalf("create %d: %s", i, errs[i])
		}
		if got := bundleOutcome(t, dir, original, policy, want); got != "rewritten" {
			t.Fatalf("create %d: bundle %s", i, got)
		}
	}
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(readFile(t, logPath)), "\n") {
		var rec struct{ Container struct{ ID string } }
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("decision log line %q: %v", l, err)
		}
		seen[rec.Container.ID] = true
	}
	if len(seen) != creates {
		t.Errorf("the decision log names %d containers, want %d", len(seen), creates)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
