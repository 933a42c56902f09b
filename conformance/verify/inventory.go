package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/conformance/node"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/spec"
)

// Options say what to look at and how closely.
type Options struct {
	// Policy is the node's: its decision log, its record key (in
	// cache_dir) and, for drift, everything a decision reads.
	Policy spec.Policy
	// AllThreads reads the filters of every thread of every process
	// (verify). Otherwise only the init process's filters are read, and the
	// other processes' modes and filter counts are checked against it from
	// /proc (ps: one ptrace stop per container).
	AllThreads bool
	// Drift works out, for each decision, whether it would differ today.
	Drift bool
	// StateRoots are the runtime state directories to join; nil:
	// node.DefaultStateRoots.
	StateRoots []node.StateRoot
	// Select keeps only the containers it accepts; nil keeps all.
	Select func(c *node.Container) bool
	// OnlyPID, when set, checks only that process's threads.
	OnlyPID int
}

// Result is every container selected, oldest first.
type Result struct {
	Reports  []*Report
	Warnings []string
}

type inventory struct {
	opts    Options
	policy  spec.Policy
	key     []byte
	records map[string][]spec.DecisionRecord

	programs    once[*filter.Program]
	comparisons once[Comparison]
	bundles     once[*specs.Spec]
}

// bundleSpec reads a bundle's config.json once per run.
func (inv *inventory) bundleSpec(dir string) (*specs.Spec, error) {
	return inv.bundles.get(dir, func() (*specs.Spec, error) { return readBundleSpec(dir) })
}

// Run finds the node's containers and examines each: what sysgate decided,
// what the kernel holds, whether they agree and, with Drift, whether the
// decision still holds.
func Run(opts Options) (*Result, error) {
	scan, err := node.Discover()
	if err != nil {
		return nil, err
	}
	stateRoots := opts.StateRoots
	if stateRoots == nil {
		stateRoots = node.DefaultStateRoots
	}
	scan.JoinRuntimeStates(node.ReadRuntimeStates(stateRoots))
	res := &Result{Warnings: scan.Warnings}
	inv := &inventory{opts: opts, policy: opts.Policy}
	if opts.Policy.CacheDir != "" {
		if _, err := os.Stat(filepath.Join(opts.Policy.CacheDir, "record.key")); err == nil {
			inv.key = opts.Policy.RecordKey()
		}
	}
	if inv.key == nil {
		res.Warnings = append(res.Warnings, "the node has no record key (cache_dir/record.key): decision records in bundles cannot be verified")
	}

	// A container whose bundle no runtime's state named: its root
	// filesystem is <bundle>/rootfs, which names the bundle and, through
	// the decision log, the container when nothing else does.
	var unbundled []int
	for _, c := range scan.Containers {
		if c.Bundle == "" {
			unbundled = append(unbundled, c.Init.TID)
		}
	}
	roots := node.RootPaths(unbundled)
	bundles := map[string]bool{}
	taskIDs := map[string]string{} // bundle -> the id containerd's task directory names
	for _, root := range roots {
		dir := filepath.Dir(root)
		bundles[dir] = true
		if id, ok := containerdTaskID(dir); ok {
			taskIDs[dir] = id
		}
	}
	if err := inv.readDecisionLog(scan.Containers, bundles, taskIDs); err != nil {
		res.Warnings = append(res.Warnings, err.Error())
	}
	byBundle := map[string]string{} // bundle -> the id of its newest decision
	newest := map[string]time.Time{}
	for id, records := range inv.records {
		for _, r := range records {
			if t := r.Logged(); bundles[r.Bundle] && !t.Before(newest[r.Bundle]) {
				byBundle[r.Bundle], newest[r.Bundle] = id, t
			}
		}
	}
	parallel(len(scan.Containers), func(i int) {
		c := scan.Containers[i]
		if root, ok := roots[c.Init.TID]; ok && c.Bundle == "" {
			inv.locateBundle(c, root, byBundle, taskIDs)
		}
	})

	var selected []*node.Container
	for _, c := range scan.Containers {
		if opts.Select == nil || opts.Select(c) {
			selected = append(selected, c)
		}
	}
	res.Reports = make([]*Report, len(selected))
	parallel(len(selected), func(i int) { res.Reports[i] = inv.examine(selected[i]) })
	return res, nil
}

// parallel runs do(0..n-1) on as many goroutines as there are CPUs: most
// of the work is reading /proc, bundles and filters.
func parallel(n int, do func(i int)) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				do(i)
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}

// readDecisionLog keeps the records of the containers found, by id, and
// of the bundles that containers without an id were started from.
func (inv *inventory) readDecisionLog(containers []*node.Container, bundles map[string]bool, taskIDs map[string]string) error {
	inv.records = map[string][]spec.DecisionRecord{}
	if inv.policy.DecisionLog == "" {
		return fmt.Errorf("the policy (%s) sets no decision_log: sysgate's decisions are found only in bundles whose runtime state is at a known place", policyName(inv.policy))
	}
	ids := map[string]bool{}
	for _, c := range containers {
		if c.ID != "" {
			ids[c.ID] = true
		}
	}
	for _, id := range taskIDs {
		ids[id] = true
	}
	var needles [][]byte
	for b := range bundles {
		enc, _ := json.Marshal(b)
		needles = append(needles, append([]byte(`"bundle":`), enc...))
	}
	records, err := spec.ReadDecisionLog(inv.policy.DecisionLog, func(id string, line []byte) bool {
		if ids[id] {
			return true
		}
		for _, n := range needles {
			if bytes.Contains(line, n) {
				return true
			}
		}
		return false
	})
	if err != nil {
		return fmt.Errorf("reading the decision log: %w", err)
	}
	for _, r := range records {
		inv.records[r.Container.ID] = append(inv.records[r.Container.ID], r)
	}
	return nil
}

// runtimeInits are the command names of runc's and crun's init process
// while a created container waits for start.
var runtimeInits = map[string]bool{"runc:[2:INIT]": true, "crun": true}

// locateBundle takes the directory above a container's root filesystem
// for its bundle when that bundle's config.json says so, and names the
// container, when nothing named it before, after the newest decision for
// that bundle or else after containerd's task directory.
func (inv *inventory) locateBundle(c *node.Container, root string, byBundle, taskIDs map[string]string) {
	dir := filepath.Dir(root)
	s, err := inv.bundleSpec(dir)
	if err != nil || s.Root == nil {
		return
	}
	want := s.Root.Path
	if !filepath.IsAbs(want) {
		want = filepath.Join(dir, want)
	}
	if filepath.Clean(want) != root {
		return
	}
	c.Bundle = dir
	if c.ID == "" {
		c.ID = byBundle[dir]
	}
	if c.ID == "" {
		c.ID = taskIDs[dir]
	}
}

// containerdTaskID is the container id containerd's v2 runtime names a
// bundle after: <state>/io.containerd.runtime.v2.task/<namespace>/<id>.
// It names crun's containers under the NRI plugin (whose decisions carry
// no bundle) where crun keeps no cgroup that would; the id only selects
// which decisions to read, and the bundle's record is still checked
// against the node's key for that id.
func containerdTaskID(bundle string) (string, bool) {
	ns := filepath.Dir(bundle)
	if filepath.Base(filepath.Dir(ns)) != "io.containerd.runtime.v2.task" || filepath.Base(ns) == "" {
		return "", false
	}
	id := filepath.Base(bundle)
	return id, id != "" && id != "." && id != "/"
}

// examine is one container's report.
func (inv *inventory) examine(c *node.Container) *Report {
	r := &Report{ID: c.ID, Engine: c.Engine, PodUID: c.PodUID, Cgroup: c.Cgroup, Bundle: c.Bundle,
		InitPID: c.Init.TID, Processes: len(c.Processes), Seccomp: modeName(c.Init.SeccompMode), Filters: c.Init.Filters}
	r.Class = ClassOther
	if c.Init.SeccompMode == node.ModeDisabled {
		r.Class = ClassUnconfined
	}
	started, err := c.Init.Started()
	if err != nil {
		r.Notes = append(r.Notes, fmt.Sprintf("its start time is unknown (%v): a decision logged for an earlier container of the same id could be taken for its own", err))
	}
	f, err := inv.decisionFor(c, started)
	if err != nil {
		r.Status, r.Problem = StatusUnverified, err.Error()
		return r
	}
	r.Notes = append(r.Notes, f.notes...)
	if !f.decided {
		r.Status = StatusNotDecided
		r.Problem = "sysgate has no decision for it (another runtime handler, a plain runc or crun, or created before sysgate or its decision log)"
		if c.ID == "" {
			r.Problem += "; its id is unknown: no cgroup, runtime state or decision names it"
		}
		if f.spec != nil {
			inv.identify(r, c, f.spec)
		}
		return r
	}
	rec := f.record
	r.Bundle = f.bundleDir
	r.Namespace, r.Pod, r.Name = rec.Container.Namespace, rec.Container.Pod, rec.Container.Name
	r.Decision = &Decision{Source: rec.Source, Type: rec.Type, Ref: rec.Ref, Digest: rec.Digest, ProfilePath: rec.Path,
		Audit: rec.Audit, Handoff: rec.Handoff, Via: rec.Via, Logged: rec.Time, Evidence: f.evidence}
	if f.spec != nil {
		inv.identify(r, c, f.spec)
	}
	if c.Init.SeccompMode == node.ModeFilter && rec.Digest != "" {
		r.Class = ClassSysgate
	}
	if inv.opts.Drift {
		r.Drift = inv.drift(f, c.Init)
	}

	if runtimeInits[c.Init.Name] {
		// runc and crun wait in their own init for `start`; crun loads the
		// filter only then. A workload that names itself so only makes
		// itself unverifiable.
		r.Status = StatusUnverified
		r.Problem = fmt.Sprintf("the container is created but not started: its init is still the runtime (%s), and the filter may be loaded only at start; verify it once it runs", c.Init.Name)
		return r
	}
	p, err := inv.decidedProfile(f, c.Init)
	if err != nil {
		r.Status, r.Problem = StatusUnverified, err.Error()
		return r
	}
	expected, err := inv.expected(p, rec.Digest, rec.Handoff)
	if err != nil {
		r.Status, r.Problem = StatusUnverified, err.Error()
		return r
	}
	inv.checkFilters(r, c, expected, p, rec.Digest+fmt.Sprint(rec.Handoff))
	return r
}

// identify fills what the bundle says and the report does not yet: the
// Pod identity its engine wrote (for containers sysgate never saw) and the
// runtime handler.
func (inv *inventory) identify(r *Report, c *node.Container, s *specs.Spec) {
	if r.Namespace == "" && r.Pod == "" && r.Name == "" {
		if who, err := spec.DescribeContainer(c.ID, s, 0); err == nil {
			r.Namespace, r.Pod, r.Name = who.Namespace, who.Pod, who.Name
		}
	}
	r.Handler = handler(r.Bundle, s, c.Runtime)
}

// checkFilters reads and compares the filters of the threads the options
// ask for and sets the report's status.
func (inv *inventory) checkFilters(r *Report, c *node.Container, expected []Expected, p *specs.LinuxSeccomp, expKey string) {
	threads := []node.Task{c.Init}
	if inv.opts.AllThreads {
		threads = c.Threads()
	}
	differs, failed := 0, 0
	for _, t := range threads {
		if inv.opts.OnlyPID != 0 && t.TGID != inv.opts.OnlyPID {
			continue
		}
		tc := inv.checkThread(t, t.TID == c.Init.TID, expected, p, expKey)
		if tc.skipped {
			continue
		}
		r.Checked++
		switch {
		case tc.equal:
			if r.Matched == "" {
				r.Matched = tc.matched
			}
		case tc.result.Error != "":
			failed++
			r.Threads = append(r.Threads, tc.result)
		default:
			differs++
			r.Threads = append(r.Threads, tc.result)
		}
	}
	if !inv.opts.AllThreads {
		// One ptrace stop per container: the other processes are checked
		// by what /proc says of them.
		for _, proc := range c.Processes[1:] {
			if proc.SeccompMode != c.Init.SeccompMode || proc.Filters != c.Init.Filters {
				differs++
				r.Threads = append(r.Threads, ThreadResult{TID: proc.TID, PID: proc.TID, Comparison: &Comparison{Filters: proc.Filters,
					Findings: []string{fmt.Sprintf("process %d holds %d filter(s) in seccomp mode %s, the init process %d holds %d in mode %s: a filter was stacked or lost (sysgate verify reads them)", proc.TID, proc.Filters, modeName(proc.SeccompMode), c.Init.TID, c.Init.Filters, modeName(c.Init.SeccompMode))}}})
			}
		}
	}
	switch {
	case differs > 0:
		r.Status = StatusDiffers
		r.Problem = fmt.Sprintf("%d thread(s) do not hold the decided filter", differs)
		for _, t := range r.Threads {
			if t.Comparison != nil && len(t.Comparison.Findings) > 0 {
				r.Problem += ": " + t.Comparison.Findings[0]
				break
			}
		}
	case failed > 0:
		r.Status = StatusUnverified
		r.Problem = r.Threads[0].Error
	case r.Checked == 0:
		r.Status = StatusUnverified
		r.Problem = "no thread could be checked: the container exited meanwhile"
	default:
		r.Status = StatusEqual
	}
}

// handler is the runtime handler where something on the host says it:
// CRI-O's annotation, or containerd's shim and the runtime binary it runs
// (the bundle's shim-binary-path and runtime files, which containerd and
// its runc shim write; containerd 2 starts one shim per Pod, whose files
// are in the sandbox's bundle beside the container's), or the runtime
// whose state named the container.
func handler(bundleDir string, s *specs.Spec, runtime string) string {
	if h := s.Annotations["io.kubernetes.cri-o.RuntimeHandler"]; h != "" {
		return h
	}
	dirs := []string{bundleDir}
	if sandbox := s.Annotations["io.kubernetes.cri.sandbox-id"]; bundleDir != "" && sandbox != "" && !strings.ContainsAny(sandbox, "/.") {
		dirs = append(dirs, filepath.Join(filepath.Dir(bundleDir), sandbox))
	}
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		read := func(name string) string {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil || len(data) > 4096 {
				return ""
			}
			if base := filepath.Base(strings.TrimSpace(string(data))); base != "." && base != "/" {
				return base
			}
			return ""
		}
		if shim := read("shim-binary-path"); shim != "" {
			if bin := read("runtime"); bin != "" {
				return shim + " (" + bin + ")"
			}
			return shim
		}
	}
	return runtime
}

func policyName(p spec.Policy) string {
	if p.Path == "" {
		return "defaults"
	}
	return p.Path
}
