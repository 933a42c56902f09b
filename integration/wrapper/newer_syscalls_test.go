package wrapper

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/integration/probetest"
)

// The issue-22 denylist: listmount (458) and statmount (457) are newer than
// the libseccomp sysgate and Debian's runc and crun link.
const denyNewer = `{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
	"syscalls":[{"names":["listmount","statmount","mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}`

// probeCalls runs the probe once per call in one container, and
// probeOutcomes reads what each call got, by number: "allowed" or the errno's
// name.
func probeCalls(calls ...string) []string {
	script := ""
	for _, c := range calls {
		script += "/bin/sysgate-probe " + c + "\n"
	}
	return []string{"sh", "-c", script}
}

func probeOutcomes(t *testing.T, r result) map[int]string {
	t.Helper()
	out := map[int]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var rep struct {
			Nr      int    `json:"nr"`
			Ret     *int64 `json:"ret"`
			Errname string `json:"errname"`
		}
		if err := json.Unmarshal([]byte(line), &rep); err != nil || rep.Ret == nil {
			t.Fatalf("not a probe report: %q (%v)\n%s", line, err, r)
		}
		out[rep.Nr] = "allowed"
		if *rep.Ret < 0 {
			out[rep.Nr] = rep.Errname
		}
	}
	return out
}

// TestNewerThanLibseccomp (issue 22): rules naming syscalls newer than
// libseccomp, behind sysgate-runc.
//   - crun, handed sysgate's program: the denylist gives EACCES for
//     listmount and statmount, as for mkdir; crun alone drops the two rules
//     and listmount reaches the kernel (EFAULT from the probe's null
//     arguments).
//   - runc compiles the profile with its own libseccomp and drops them too,
//     and takes no program: sysgate-runc refuses the create, naming the
//     rules, and leaves config.json as it was.
//   - RuntimeDefault allows mseal, listmount and statmount by name: under
//     crun a container calls them (mseal(0, 0, 0) succeeds, the others
//     reach the kernel); under runc they get the ENOSYS of runc's stub, as
//     with runc alone, since its libseccomp cannot name them.
func TestNewerThanLibseccomp(t *testing.T) {
	requireRoot(t)
	if filter.KernelLacks("listmount") || filter.KernelLacks("mseal") {
		t.Skipf("this kernel (%s) lacks listmount or mseal: their calls return ENOSYS under every runtime; TestKernelNewerThanLibseccomp covers that in the VM tier", filter.KernelRelease())
	}
	if _, byNumber := filter.FilteredByNumber("listmount", specs.ArchX86_64); !byNumber {
		t.Skipf("libseccomp %s names listmount: nothing is filtered by number", filter.LibseccompVersion())
	}
	probePath := probetest.BuildForTest(t)
	var deny specs.LinuxSeccomp
	if err := json.Unmarshal([]byte(denyNewer), &deny); err != nil {
		t.Fatal(err)
	}
	denyCalls := bundle.Options{
		Args:    probeCalls("458 0 0 0 0", "457 0 0 0 0", "83 s:/tmp/d 493"),
		Seccomp: &deny,
		Files:   map[string]string{"/bin/sysgate-probe": probePath},
	}
	newCalls := bundle.Options{
		Args:  probeCalls("462 0 0 0", "458 0 0 0 0", "457 0 0 0 0"),
		Files: map[string]string{"/bin/sysgate-probe": probePath},
	}
	for _, rt := range runtimes(t) {
		t.Run(rt.name, func(t *testing.T) {
			n := newNode(t, rt, `runtime_kind = "`+rt.name+`"`+"\ndefault = \"runtime/default\"")

			bare := n.bundle(denyCalls)
			id := newID("bare")
			r := n.cmd(true, "run", "--bundle", bare, id)
			n.cmd(true, "delete", "--force", id)
			if got := probeOutcomes(t, r); got[458] != "EFAULT" || got[83] != "EACCES" {
				t.Errorf("%s alone: listmount %s, mkdir %s; want the known loss (EFAULT: the rule dropped) and EACCES\n%s", rt.name, got[458], got[83], r)
			}

			dir := n.bundle(denyCalls)
			before, _ := os.ReadFile(filepath.Join(dir, "config.json"))
			id = newID("deny")
			r = n.cmd(false, "run", "--bundle", dir, id)
			n.cmd(true, "delete", "--force", id)
			switch rt.name {
			case "crun":
				if got := probeOutcomes(t, r); got[458] != "EACCES" || got[457] != "EACCES" || got[83] != "EACCES" {
					t.Errorf("through sysgate-runc: listmount %s, statmount %s, mkdir %s; want EACCES for each\n%s", got[458], got[457], got[83], r)
				}
			default:
				if r.code == 0 || !strings.Contains(r.stderr, "cannot be enforced by runc") || !strings.Contains(r.stderr, `"listmount" (SCMP_ACT_ERRNO(13))`) ||
					!strings.Contains(r.stderr, `runtime_kind = "crun"`) {
					t.Errorf("through sysgate-runc: want create refused, naming listmount and the fix\n%s", r)
				}
				fileUnchanged(t, filepath.Join(dir, "config.json"), before)
			}

			r, _ = n.run(newCalls)
			got := probeOutcomes(t, r)
			want := map[int]string{462: "allowed", 458: "EFAULT", 457: "EFAULT"}
			if rt.name == "runc" {
				want = map[int]string{462: "ENOSYS", 458: "ENOSYS", 457: "ENOSYS"}
			}
			for nr, w := range want {
				if got[nr] != w {
					t.Errorf("RuntimeDefault through sysgate-runc: nr %d got %s, want %s\n%s", nr, got[nr], w, r)
				}
			}
		})
	}
}
