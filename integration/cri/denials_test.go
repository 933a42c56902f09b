package cri

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/shim/denials"
	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/profile"
)

// A Pod run through the CRI (crictl, with the Pod metadata the kubelet
// sends) makes a denied call; the collector, reading the daemon's decision
// log, names its namespace, Pod, container, syscall, ABI, action and the
// rule, within 2 s. The suite's runtime is Debian's runc 1.1, which takes
// no seccomp flags: its ERRNO denials leave no record, so the profile
// kills mkdir (KILL is always recorded), and the line carries the note
// that runc 1.1 reports only LOG and KILL outcomes.
func TestDenialsThroughCRI(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, d *daemon) {
		p := profile.RuntimeDefault(profile.DefaultCapabilities)
		for i := range p.Syscalls {
			p.Syscalls[i].Names = slices.DeleteFunc(slices.Clone(p.Syscalls[i].Names), func(n string) bool { return n == "mkdir" || n == "mkdirat" })
		}
		p.Syscalls = append(p.Syscalls, specs.LinuxSyscall{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActKillProcess})
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(d.profileRoot, "profiles", "kill-mkdir.json"), string(data))

		c := &denials.Collector{DecisionLog: d.decisionLog, DenialLog: filepath.Join(t.TempDir(), "denials.jsonl")}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("collector: %v", err)
			}
		})
		time.Sleep(300 * time.Millisecond)

		name := "denied-" + strings.ReplaceAll(d.flavor.name, " ", "-")
		rp, err := d.runPod(t, "sysgate", pod{Name: name, Containers: []container{{
			Name:    "app",
			Seccomp: &seccompField{Type: "Localhost", Localhost: "profiles/kill-mkdir.json"},
			Command: []string{"sh", "-c", "mkdir /tmp/x; trap 'exit 0' TERM; while :; do sleep 1; done"},
		}}})
		if err != nil {
			t.Fatalf("%v\ncontainerd log:\n%s", err, d.logTail())
		}
		id := rp.Containers["app"]
		start := time.Now()
		var got *denials.Denial
		for time.Since(start) < 2*time.Second && got == nil {
			time.Sleep(100 * time.Millisecond)
			rep, err := denials.ReadLog(c.DenialLog)
			if err != nil {
				continue
			}
			for i, dn := range rep.Denials {
				if dn.Container == id && (dn.Syscall == "mkdir" || dn.Syscall == "mkdirat") {
					got = &rep.Denials[i]
				}
			}
		}
		if got == nil {
			rep, _ := denials.ReadLog(c.DenialLog)
			t.Fatalf("no mkdir denial for container %s within 2 s: %+v", id, rep)
		}
		t.Logf("shown %v after the Pod started: %+v", time.Since(start).Round(time.Millisecond), *got)
		if got.Namespace != "default" || got.Pod != name || got.Name != "app" || got.ABI != "x86_64" ||
			got.Action != "SCMP_ACT_KILL_PROCESS" || !strings.HasPrefix(got.Rule, "rule ") || got.Digest == "" {
			t.Errorf("denial line %+v", *got)
		}
		if !strings.Contains(got.Note, spec.NoFlagsNote) {
			t.Errorf("the line does not carry %q: %q", spec.NoFlagsNote, got.Note)
		}
	})
}
