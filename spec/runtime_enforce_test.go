package spec

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/spec/internal/profiletest"
)

// In front of runc, a profile whose rules by number runc would drop and so
// leave a syscall more open than the profile says is refused, naming the
// rules, what runc would answer and the fix; in front of crun, which takes
// sysgate's program, it passes. Rules whose loss only restricts
// (RuntimeDefault's ALLOW for mseal) pass in front of either.
func TestCheckRuntimeEnforces(t *testing.T) {
	if filter.KernelLacks("listmount") {
		t.Skipf("this kernel (%s) lacks listmount: its calls return ENOSYS under any runtime, and nothing is weakened", filter.KernelRelease())
	}
	if _, byNumber := filter.FilteredByNumber("listmount", "SCMP_ARCH_X86_64"); !byNumber {
		t.Skipf("libseccomp %s knows listmount: runc linking it enforces the rule itself", filter.LibseccompVersion())
	}
	root, _ := decisionRoot(t)
	deny := filepath.Join(root, "deny-new.json")
	profiletest.WriteFile(t, deny, `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["listmount","statmount","mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}`)
	runc, crun := DefaultPolicy(), DefaultPolicy()
	runc.ProfileRoot, crun.ProfileRoot = root, root
	runc.Runtime, runc.RuntimeKind = "/usr/sbin/runc", "runc"
	crun.Runtime, crun.RuntimeKind = "/usr/bin/crun", "crun"
	for _, tc := range []struct {
		name   string
		ref    string
		policy Policy
		want   []string // nil: it passes
	}{
		{"denylist in front of runc", "localhost/deny-new.json", runc, []string{
			"the seccomp profile " + deny + " (asked by " + fromPodAnnotation + ") cannot be enforced by runc",
			`syscalls[0].names[1] "statmount" (SCMP_ACT_ERRNO(13)), syscalls[0].names[0] "listmount" (SCMP_ACT_ERRNO(13)) would get SCMP_ACT_ALLOW there instead`,
			"cannot name statmount, listmount (newer than libseccomp",
			`set runtime_kind = "crun"`}},
		{"denylist in front of crun", "localhost/deny-new.json", crun, nil},
		{"RuntimeDefault in front of runc", "runtime/default", runc, nil},
		{"unconfined in front of runc", "unconfined", runc, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Decide("c1", newSpec(annotate(keyPod, tc.ref)), tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			prog, err := d.Verify(nil)
			if err != nil {
				t.Fatal(err)
			}
			err = checkRuntimeEnforces(d, prog, tc.policy)
			if tc.want == nil {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("passed")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}
