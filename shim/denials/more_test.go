package denials

import (
	"bytes"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/profile"
)

// In audit mode the filter's default is LOG: such a record is a call that
// would have been denied, and says so.
func TestAuditModeLogIsWouldHaveBeenDenied(t *testing.T) {
	n := newTestNode(t)
	p := mkdirProfile()
	p.DefaultAction, p.DefaultErrnoRet = "SCMP_ACT_LOG", nil
	cfg := fmt.Sprintf(`{"container":{"id":%q,"namespace":"learning","pod":"p","name":"c"},"source":"pod annotation","type":%q,"digest":%q,"bundle":%q,"audit":true}`,
		ctrID, profile.TypeLocalhost, spec.DigestOf(p), n.bundle)
	n.decide(t, "other", spec.Container{}, p, cfg)
	n.process(t, 5, "/"+ctrID, "chmod")
	c := n.collector(t)
	c.record(AuditSeccomp, rec(1, 5, "chmod", 0xc000003e, 90, 0x7ffc0000))
	rep := c.settle(t)
	d := find(rep, "chmod", "x86_64")
	if d == nil || !d.WouldDeny || d.Action != "SCMP_ACT_LOG" || d.Rule != "default action" {
		t.Fatalf("audit-mode line: %+v", d)
	}
	var out bytes.Buffer
	WriteTable(&out, rep.Denials, rep.Lost, 0)
	if !strings.Contains(out.String(), "LOG (would have been denied)") {
		t.Errorf("table:\n%s", out.String())
	}
}

// Pods churning through a node cannot grow the scrape without end.
func TestDenialSeriesAreBounded(t *testing.T) {
	m := NewMetrics()
	for i := range maxDenialSeries + 50 {
		m.observe(&Denial{Container: fmt.Sprint(i), Namespace: "ns", Pod: fmt.Sprint("pod-", i), Name: "c", Syscall: "mkdir", ABI: "x86_64", Action: "SCMP_ACT_ERRNO(1)"})
	}
	m.Refused("policy")
	m.Decided("node default", "RuntimeDefault", false)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if n := strings.Count(string(body), "sysgate_seccomp_denials_total{"); n != maxDenialSeries+1 {
		t.Errorf("%d denial series, want %d and _other", n, maxDenialSeries+1)
	}
	if !strings.Contains(string(body), `pod="_other",syscall="mkdir"} 50`) {
		t.Errorf("the overflow is not counted under _other")
	}
	for _, want := range []string{`sysgate_create_refusals_total{reason="policy"} 1`, `sysgate_decisions_total{source="node default",type="RuntimeDefault"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// The denial log stays bounded; what rotated to .1 is still read.
func TestDenialLogRotates(t *testing.T) {
	n := newTestNode(t)
	n.decide(t, ctrID, spec.Container{Namespace: "ns", Pod: "p", Name: "c"}, mkdirProfile())
	n.process(t, 9, "/"+ctrID, "mkdir")
	c := n.collector(t)
	c.writer.maxBytes = 4096
	for i := range 200 {
		c.record(AuditSeccomp, rec(i+1, 9, "mkdir", 0xc000003e, int32(i%40), 0x50000))
		if i%10 == 0 {
			c.settle(t)
		}
	}
	rep := c.settle(t)
	for _, p := range []string{c.DenialLog, c.DenialLog + ".1"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 4096+8192 {
			t.Errorf("%s is %d bytes, past the bound", p, st.Size())
		}
	}
	var total uint64
	for _, d := range rep.Denials {
		total += d.Count
	}
	if len(rep.Denials) == 0 || total == 0 || rep.Corrupt != 0 {
		t.Errorf("after rotation: %d lines, total %d, corrupt %d", len(rep.Denials), total, rep.Corrupt)
	}
}
