package denials

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/profile"
)

const ctrID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// testNode is a fake /proc, a decision log and a bundle.
type testNode struct {
	proc, decisionLog, denialLog, bundle string
}

func newTestNode(t *testing.T) *testNode {
	dir := t.TempDir()
	n := &testNode{proc: filepath.Join(dir, "proc"), decisionLog: filepath.Join(dir, "decisions.jsonl"), denialLog: filepath.Join(dir, "denials.jsonl"), bundle: filepath.Join(dir, "bundle")}
	os.MkdirAll(n.bundle, 0o755)
	return n
}

// process makes /proc/<pid> with a cgroup and a comm.
func (n *testNode) process(t *testing.T, pid int, cgroup, comm string) {
	d := filepath.Join(n.proc, fmt.Sprint(pid))
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(d, "cgroup"), []byte("12:pids:"+cgroup+"\n11:memory:"+cgroup+"\n"), 0o644)
	os.WriteFile(filepath.Join(d, "comm"), []byte(comm+"\n"), 0o644)
}

func (n *testNode) exit(pid int) { os.RemoveAll(filepath.Join(n.proc, fmt.Sprint(pid))) }

// mkdirProfile denies mkdir and mkdirat by a rule and anything unnamed by
// the default action.
func mkdirProfile() *specs.LinuxSeccomp {
	errno := uint(1)
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno, DefaultErrnoRet: &errno,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno},
			{Names: []string{"read", "write", "getpid", "exit_group", "fstat", "open"}, Action: specs.ActAllow},
		},
	}
}

// decide writes the bundle's config.json and the decision log line.
func (n *testNode) decide(t *testing.T, id string, c spec.Container, p *specs.LinuxSeccomp, extra ...string) {
	cfg, _ := json.Marshal(map[string]any{"linux": map[string]any{"seccomp": p}})
	if err := os.WriteFile(filepath.Join(n.bundle, "config.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	c.ID = id
	line, _ := json.Marshal(spec.DecisionRecord{Container: c, Source: "container annotation", Type: profile.TypeLocalhost, Ref: "localhost/deny-mkdir.json", Digest: spec.DigestOf(p), Bundle: n.bundle, LogDenials: true})
	f, _ := os.OpenFile(n.decisionLog, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	defer f.Close()
	for _, e := range extra {
		f.WriteString(e + "\n")
	}
	f.Write(append(line, '\n'))
}

func (n *testNode) collector(t *testing.T) *Collector {
	c := &Collector{DecisionLog: n.decisionLog, DenialLog: n.denialLog, ProcRoot: n.proc, Metrics: NewMetrics()}
	c.init()
	c.srcName = "test"
	if err := c.writer.open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.writer.close)
	return c
}

func rec(serial, pid int, comm string, arch uint32, nr int32, code uint32) []byte {
	return fmt.Appendf(nil, `audit(1796024876.357:%d): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=%d comm="%s" exe="/bin/busybox" sig=0 arch=%x syscall=%d compat=0 ip=0x40866e code=0x%x`, serial, pid, comm, arch, nr, code)
}

func (c *Collector) settle(t *testing.T) Report {
	c.drain()
	if err := c.flush(); err != nil {
		t.Fatal(err)
	}
	rep, err := ReadLog(c.DenialLog)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func find(rep Report, syscall, abi string) *Denial {
	for i := range rep.Denials {
		if rep.Denials[i].Syscall == syscall && rep.Denials[i].ABI == abi {
			return &rep.Denials[i]
		}
	}
	return nil
}

func TestCollectorAttributesAndNamesTheRule(t *testing.T) {
	n := newTestNode(t)
	n.decide(t, ctrID, spec.Container{Namespace: "team-a", Pod: "web-0", Name: "app"}, mkdirProfile())
	n.process(t, 4242, "/kubepods/besteffort/podabc/"+ctrID, "mkdir")
	c := n.collector(t)
	for i := range 3 {
		c.record(AuditSeccomp, rec(10+i, 4242, "mkdir", 0xc000003e, 83, 0x50000))
	}
	c.record(AuditSeccomp, rec(13, 4242, "mkdir", 0xc000003e, 90, 0x50000))  // chmod: named by no rule
	c.record(AuditSeccomp, rec(15, 4242, "mkdir", 0xc000003e, 435, 0x50000)) // clone3: above every named syscall
	c.record(AuditSeccomp, rec(14, 4242, "mkdir", 0x40000003, 39, 0x50000))  // i386 mkdir
	rep := c.settle(t)
	d := find(rep, "mkdir", "x86_64")
	if d == nil {
		t.Fatalf("no mkdir line in %+v", rep)
	}
	if d.Namespace != "team-a" || d.Pod != "web-0" || d.Name != "app" || d.Container != ctrID || d.Count != 3 || d.Action != "SCMP_ACT_ERRNO(1)" {
		t.Errorf("mkdir line %+v", d)
	}
	if !strings.HasPrefix(d.Rule, "rule 0 (mkdir,mkdirat") || d.Ref != "localhost/deny-mkdir.json" {
		t.Errorf("rule %q ref %q", d.Rule, d.Ref)
	}
	if d := find(rep, "chmod", "x86_64"); d == nil || d.Rule != "default action" {
		t.Errorf("chmod: %+v", d)
	}
	if d := find(rep, "clone3", "x86_64"); d == nil || !strings.HasPrefix(d.Rule, "ENOSYS stub") {
		t.Errorf("clone3: %+v", d)
	}
	if d := find(rep, "mkdir", "i386"); d == nil || !d.ABIBypass || !strings.HasPrefix(d.Rule, "rule 0") {
		t.Errorf("i386 mkdir: %+v", d)
	}
	var out bytes.Buffer
	WriteTable(&out, rep.Denials, rep.Lost, rep.Corrupt)
	for _, want := range []string{"team-a", "web-0", "app", "mkdir", "x86_64", "ERRNO(1)", "rule 0", "i386 (ABI bypass attempt)", "default action"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

// The process exits before its record is read: what /proc showed a moment
// before attributes it. Never seen alive, or its pid now someone else's:
// reported unattributed, never given to the wrong container.
func TestCollectorWhenThePidIsGone(t *testing.T) {
	n := newTestNode(t)
	n.decide(t, ctrID, spec.Container{Namespace: "team-a", Pod: "web-0", Name: "app"}, mkdirProfile())
	n.process(t, 100, "/"+ctrID, "mkdir")
	c := n.collector(t)
	c.pids.scanNew(n.proc)
	n.exit(100)
	c.record(AuditSeccomp, rec(1, 100, "mkdir", 0xc000003e, 83, 0x50000))
	c.record(AuditSeccomp, rec(2, 101, "ghost", 0xc000003e, 83, 0x50000))
	n.process(t, 102, "/"+ctrID, "sh") // pid 102 reused by a shell in the container
	c.record(AuditSeccomp, rec(3, 102, "mkdir", 0xc000003e, 83, 0x50000))
	rep := c.settle(t)
	var attributed, ghost, reused bool
	for _, d := range rep.Denials {
		switch d.Pid {
		case 100:
			attributed = d.Pod == "web-0"
		case 101:
			ghost = d.Container == "" && strings.Contains(d.Unattributed, "exited before")
		case 102:
			reused = d.Container == "" && strings.Contains(d.Unattributed, "pid reused")
		}
	}
	if !attributed || !ghost || !reused {
		t.Errorf("attributed from cache %v, gone reported %v, reused reported %v: %+v", attributed, ghost, reused, rep.Denials)
	}
}

// A container without a decision entry (and a corrupt line in the log) is
// still reported, by id, saying its Pod is unknown; a host process is
// reported unattributed; garbage is a line of its own.
func TestCollectorMissingDecisionAndGarbage(t *testing.T) {
	n := newTestNode(t)
	other := strings.Repeat("f", 64)
	n.decide(t, ctrID, spec.Container{Namespace: "team-a", Pod: "web-0", Name: "app"}, mkdirProfile(), `{"container":{"id":"`+other+`","namespace":"kube-sys`, "not json at all")
	n.process(t, 7, "/system.slice/"+other, "mkdir")
	n.process(t, 8, "/user.slice/session-1.scope", "bash")
	c := n.collector(t)
	c.record(AuditSeccomp, rec(1, 7, "mkdir", 0xc000003e, 83, 0x50000))
	c.record(AuditSeccomp, rec(2, 8, "bash", 0xc000003e, 83, 0x50000))
	c.record(AuditSeccomp, []byte("audit(1.0:3): pid=1 arch=c000003e"))
	c.record(AuditSeccomp, []byte("\x00\xff garbage"))
	rep := c.settle(t)
	var noEntry, host, garbled int
	for _, d := range rep.Denials {
		switch {
		case d.Container == other && d.Pod == "" && strings.Contains(d.Note, "no entry in the decision log"):
			noEntry++
		case d.Pid == 8 && d.Container == "" && strings.Contains(d.Unattributed, "not in a container"):
			host++
		case strings.HasPrefix(d.Unattributed, "garbled record"):
			garbled++
		}
	}
	if noEntry != 1 || host != 1 || garbled != 2 || rep.Lost.Garbled != 2 {
		t.Errorf("no entry %d, host %d, garbled lines %d (records %d): %+v", noEntry, host, garbled, rep.Lost.Garbled, rep.Denials)
	}
	if c.index.corrupt != 2 {
		t.Errorf("corrupt decision lines counted %d, want 2", c.index.corrupt)
	}
}

// A Pod name with quotes and a newline comes out of the metrics as one
// escaped label and out of the table on one line.
func TestCollectorLabelsWithQuotesAndNewlines(t *testing.T) {
	n := newTestNode(t)
	n.decide(t, ctrID, spec.Container{Namespace: "ns", Pod: "evil\"}\nsysgate_fake 1", Name: "a\"b"}, mkdirProfile())
	n.process(t, 9, "/"+ctrID, "mkdir")
	c := n.collector(t)
	c.record(AuditSeccomp, rec(1, 9, "mkdir", 0xc000003e, 83, 0x50000))
	rep := c.settle(t)
	srv := httptest.NewServer(c.Metrics.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "\nsysgate_fake") {
		t.Errorf("a label value injected a metric:\n%s", body)
	}
	if !strings.Contains(string(body), `sysgate_seccomp_denials_total{abi="x86_64",action="SCMP_ACT_ERRNO(1)",container="a\"b",namespace="ns",pod="evil\"} sysgate_fake 1",syscall="mkdir"} 1`) {
		t.Errorf("metrics:\n%s", body)
	}
	var out bytes.Buffer
	WriteTable(&out, rep.Denials, rep.Lost, 0)
	if lines := strings.Count(out.String(), "\n"); lines != 2 {
		t.Errorf("the table has %d lines, want header and one row:\n%s", lines, out.String())
	}
}

// Skipped serials are reported lost; the collector's own drops too.
func TestCollectorReportsLosses(t *testing.T) {
	n := newTestNode(t)
	n.decide(t, ctrID, spec.Container{Namespace: "ns", Pod: "p", Name: "c"}, mkdirProfile())
	n.process(t, 9, "/"+ctrID, "mkdir")
	c := n.collector(t)
	c.record(AuditSeccomp, rec(100, 9, "mkdir", 0xc000003e, 83, 0x50000))
	c.record(1300, []byte("audit(1.0:101): arch=c000003e syscall=1")) // another type: counted, not a denial
	c.record(AuditSeccomp, rec(110, 9, "mkdir", 0xc000003e, 83, 0x50000))
	c.dropped.Add(3)
	rep := c.settle(t)
	if rep.Lost.Gaps != 8 || rep.Lost.Dropped != 3 || rep.Lost.Total() != 11 {
		t.Errorf("lost %+v, want 8 gaps and 3 dropped", rep.Lost)
	}
	var out bytes.Buffer
	WriteTable(&out, rep.Denials, rep.Lost, 0)
	if !strings.Contains(out.String(), "11 records lost") {
		t.Errorf("table:\n%s", out.String())
	}
}
