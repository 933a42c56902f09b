package cri

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysgate/sysgate/conformance/verify"
)

// inventory is the JSON of sysgate ps and sysgate verify.
type inventory struct {
	Containers []*verify.Report `json:"containers"`
	Summary    string           `json:"summary"`
}

// sysgate runs the sysgate command with the daemon's policy.
func (d *daemon) sysgate(t *testing.T, args ...string) (inventory, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(tools(t), "sysgate"), append(args, "--output", "json", "--config", d.policyPath)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var inv inventory
	if err := json.Unmarshal(stdout.Bytes(), &inv); err != nil {
		t.Fatalf("sysgate %v: exit %d, not JSON: %v\n%s\n%s", args, code, err, stdout.String(), stderr.String())
	}
	return inv, code
}

func (inv inventory) byID() map[string]*verify.Report {
	out := map[string]*verify.Report{}
	for _, r := range inv.Containers {
		out[r.ID] = r
	}
	return out
}

// Pods through each sysgate handler and through plain runc: ps names every
// container after its Pod, with its handler and decision, verify --all
// proves each of sysgate's holds the decided filter, and the plain Pod's
// containers are listed as never decided.
func TestPsAndVerifyThroughCRI(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, d *daemon) {
		type started struct {
			handler string
			pod     runningPod
		}
		var pods []started
		for _, h := range append(sysgateHandlers(d), handlerRunc) {
			rp, err := d.runPod(t, h, pod{Name: "psv-" + h, Containers: []container{{Name: "app", Seccomp: runtimeDefault}, {Name: "sidecar", Seccomp: auditProfile}}})
			if err != nil {
				t.Fatalf("%s: %v\ncontainerd log:\n%s", h, err, d.logTail())
			}
			pods = append(pods, started{h, rp})
		}

		ps, code := d.sysgate(t, "ps")
		all, verifyCode := d.sysgate(t, "verify", "--all")
		if code != 0 {
			t.Errorf("ps exited %d", code)
		}
		if want := verify.Failed(all.Containers); (verifyCode != 0) != want {
			t.Errorf("verify --all exited %d, but its reports say failed=%v", verifyCode, want)
		}
		listed, verified := ps.byID(), all.byID()
		for _, p := range pods {
			ids := map[string]string{"(sandbox)": p.pod.ID}
			for name, id := range p.pod.Containers {
				ids[name] = id
			}
			for name, id := range ids {
				r, v := listed[id], verified[id]
				if r == nil || v == nil {
					t.Errorf("%s %s (%s) is not listed by ps or verify", p.handler, name, id)
					continue
				}
				t.Logf("%s %s: %s/%s %s, handler %q, %s, seccomp %s:%d, %s", p.handler, name, r.Namespace, r.Pod, r.Name, r.Handler, r.Class, r.Seccomp, r.Filters, v.Status)
				if r.Pod != "psv-"+p.handler || r.Namespace != "default" || r.Engine == "" && r.PodUID == "" && r.Bundle == "" {
					t.Errorf("%s %s: identity %+v", p.handler, name, r)
				}
				if p.handler == handlerRunc {
					if r.Decision != nil || r.Status != verify.StatusNotDecided || v.Status != verify.StatusNotDecided {
						t.Errorf("plain runc %s: %s", name, dump(r))
					}
					continue
				}
				if r.Decision == nil || r.Class != verify.ClassSysgate || r.Status != verify.StatusEqual || v.Status != verify.StatusEqual {
					t.Errorf("%s %s: ps %s\nverify %s", p.handler, name, dump(r), dump(v))
				}
				if name != "(sandbox)" && r.Name != name {
					t.Errorf("%s %s: ps names it %q", p.handler, name, r.Name)
				}
				if p.handler == handlerSysgate && !strings.Contains(r.Handler, "sysgate-runc") {
					t.Errorf("%s %s: handler %q, want containerd's runc shim running sysgate-runc", p.handler, name, r.Handler)
				}
			}
		}
	})
}

func dump(r *verify.Report) string {
	data, _ := json.MarshalIndent(r, "", "  ")
	return string(data)
}
