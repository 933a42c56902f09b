package spec

import (
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/spec/internal/profiletest"
	"github.com/sysgate/sysgate/spec/profile"
)

// socketConflict allows socket but kills socketcall(SYS_SOCKET, ...). On
// x86_64 these are unrelated syscalls; on x86 libseccomp implements a rule
// for socket as socketcall with arg0 == SYS_SOCKET too, so the two rules
// give one syscall two actions, which libseccomp refuses. The validator,
// which compares rules by name, cannot see it.
func socketConflict(arches ...string) string {
	return `{"defaultAction":"SCMP_ACT_ERRNO","architectures":` + mustMarshal(arches) + `,"syscalls":[
	  {"names":["socket"],"action":"SCMP_ACT_ALLOW"},
	  {"names":["socketcall"],"action":"SCMP_ACT_KILL_PROCESS","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]}]}`
}

func TestVerify(t *testing.T) {
	root, _ := decisionRoot(t)
	profiletest.WriteFile(t, filepath.Join(root, "two-actions.json"), `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],"syscalls":[
	  {"names":["read","write"],"action":"SCMP_ACT_ALLOW"},
	  {"names":["read"],"action":"SCMP_ACT_ERRNO","errnoRet":5,"args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"}]}]}`)
	profiletest.WriteFile(t, filepath.Join(root, "bad-action.json"), `{"defaultAction":"SCMP_ACT_DENY","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}`)
	profiletest.WriteFile(t, filepath.Join(root, "socket-x86.json"), socketConflict("SCMP_ARCH_X86_64", "SCMP_ARCH_X86"))
	profiletest.WriteFile(t, filepath.Join(root, "socket-x86_64.json"), socketConflict("SCMP_ARCH_X86_64"))
	policy := DefaultPolicy()
	policy.ProfileRoot = root

	for _, tc := range []struct {
		name string
		spec *specs.Spec
		want []string // substrings of the error; nil: it verifies
	}{
		{name: "RuntimeDefault", spec: newSpec()},
		{name: "RuntimeDefault for every capability", spec: newSpec(withCaps(profile.CapabilityNames[:]...))},
		{name: "the seed's Localhost profile", spec: newSpec(annotate(keyPod, "localhost/profiles/audit.json"))},
		{name: "unconfined", spec: newSpec(annotate(keyPod, "unconfined"))},
		{name: "control: the socket rules on x86_64 alone", spec: newSpec(annotate(keyPod, "localhost/socket-x86_64.json"))},
		{name: "two actions for read", spec: newSpec(containerd("shop", "p", "app"), annotate(keyContainer+"app", "localhost/two-actions.json")),
			want: []string{"the seccomp profile " + filepath.Join(root, "two-actions.json"),
				"(asked by annotation " + keyContainer + "app)", "is invalid", `syscalls[1].names[0]: "read" has action SCMP_ACT_ERRNO (errno 5) here but SCMP_ACT_ALLOW in syscalls[0]`}},
		{name: "unknown default action", spec: newSpec(annotate(keyPod, "localhost/bad-action.json")),
			want: []string{"the seccomp profile " + filepath.Join(root, "bad-action.json"), "(asked by " + fromPodAnnotation + ")", `defaultAction: "SCMP_ACT_DENY" is not a seccomp action`}},
		{name: "invalid profile rendered in the bundle", spec: newSpec(withSeccomp(&specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: profiletest.UintPtr(5000)})),
			want: []string{"the seccomp profile (bundle) (asked by linux.seccomp) is invalid", "defaultErrnoRet: 5000 is larger than the largest errno"}},
		{name: "libseccomp refuses socket and socketcall across x86_64 and x86", spec: newSpec(annotate(keyPod, "localhost/socket-x86.json")),
			want: []string{"the seccomp profile " + filepath.Join(root, "socket-x86.json"), "(asked by " + fromPodAnnotation + ")",
				"does not compile", `"socketcall" with SCMP_ACT_KILL_PROCESS: libseccomp refused the rule`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Decide("c1", tc.spec, policy)
			if err != nil {
				t.Fatal(err)
			}
			for _, cache := range []struct {
				name  string
				cache *filter.Cache
			}{{"no cache", nil}, {"cache", &filter.Cache{Dir: t.TempDir()}}} {
				// Twice: the second run may be a cache hit, which must
				// give the same answer.
				for round := 1; round <= 2; round++ {
					prog, err := d.Verify(cache.cache)
					if tc.want == nil {
						if err != nil {
							t.Errorf("%s, round %d: %v", cache.name, round, err)
						}
						if (prog == nil) != (d.Profile == nil) {
							t.Errorf("%s, round %d: program %v for profile %v", cache.name, round, prog != nil, d.Profile != nil)
						}
						continue
					}
					if err == nil || prog != nil {
						t.Errorf("%s, round %d: verified (program %v, error %v)", cache.name, round, prog != nil, err)
						continue
					}
					for _, w := range tc.want {
						if !strings.Contains(err.Error(), w) {
							t.Errorf("%s, round %d: error %q\ndoes not contain %q", cache.name, round, err, w)
						}
					}
				}
				if cache.cache != nil && d.Profile != nil {
					_, hit := cache.cache.Lookup(d.Profile, filter.Options{})
					if tc.want != nil && hit {
						t.Errorf("a profile that failed verification is in the cache")
					}
					if tc.want == nil && !hit {
						t.Errorf("a verified profile is not in the cache")
					}
				}
			}
		})
	}
}

func TestVerifySocketConflictPassesValidation(t *testing.T) {
	// The libseccomp case above is only meaningful if the validator lets
	// it through: otherwise Verify would fail on validation instead.
	p, err := profile.Parse([]byte(socketConflict("SCMP_ARCH_X86_64", "SCMP_ARCH_X86")))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range profile.Validate(p) {
		if f.Severity == profile.SeverityError {
			t.Errorf("validator error: %v", f)
		}
	}
}

func TestVerifyNilProfile(t *testing.T) {
	for _, d := range []Decision{
		{},
		{Type: profile.TypeUnconfined, Ref: "unconfined", From: fromPodAnnotation},
	} {
		if prog, err := d.Verify(nil); prog != nil || err != nil {
			t.Errorf("%+v: %v, %v", d, prog, err)
		}
		if prog, err := d.Verify(&filter.Cache{Dir: t.TempDir()}); prog != nil || err != nil {
			t.Errorf("%+v with a cache: %v, %v", d, prog, err)
		}
	}
}
