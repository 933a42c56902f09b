package main

import (
	"strings"
	"testing"

	"github.com/sysgate/sysgate/conformance/verify"
)

func TestPsVerifyCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"ps", "--output", "text"}, exitUsage, "--output must be table or json"},
		{[]string{"ps", "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"verify"}, exitUsage, "name one PID or CONTAINER"},
		{[]string{"verify", "a", "b"}, exitUsage, "name one PID or CONTAINER"},
		{[]string{"verify", "--all", "abc"}, exitUsage, "not both"},
		{[]string{"verify", "--all", "--output", "yaml"}, exitUsage, "--output must be text or json"},
		{[]string{"ps", "--config", "/nonexistent/dir/config.toml", "--output", "json"}, 0, ""},
	} {
		code, _, stderr := runCLI(tc.args...)
		if tc.code == 0 {
			// Runs for real: needs root, and lists whatever this machine runs.
			if code != 0 && !strings.Contains(stderr, "needs root") {
				t.Errorf("%v: exit %d: %s", tc.args, code, stderr)
			}
			continue
		}
		if code != tc.code || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.stderr)
		}
	}
}

func TestOneTarget(t *testing.T) {
	reports := []*verify.Report{{ID: "abc123"}, {ID: "abc"}, {ID: "abd"}}
	for _, tc := range []struct {
		target string
		in     []*verify.Report
		want   string // the id chosen, or a substring of the error
	}{
		{"abc", reports[:2], "abc"}, // an exact id wins over the ids it prefixes
		{"ab", reports, `"ab" names 3 containers`},
		{"abd", reports[2:], "abd"},
		{"zz", nil, `no running container has an id starting with "zz"`},
	} {
		got, err := oneTarget(tc.target, 0, tc.in)
		switch {
		case err != nil:
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %v, want %q", tc.target, err, tc.want)
			}
		case len(got) != 1 || got[0].ID != tc.want:
			t.Errorf("%s: %v, want %s", tc.target, got, tc.want)
		}
	}
	if _, err := oneTarget("42", 42, nil); err == nil || !strings.Contains(err.Error(), "process 42 is not in a container") {
		t.Errorf("a pid in no container: %v", err)
	}
}

func TestPrintPs(t *testing.T) {
	id := strings.Repeat("ab", 32)
	reports := []*verify.Report{
		{ID: id, Namespace: "shop", Pod: "web-1", Name: "app", Handler: "containerd-shim-runc-v2 (sysgate-runc)", Seccomp: "filter", Filters: 1, Class: verify.ClassSysgate,
			Decision: &verify.Decision{Source: "node default", Type: "RuntimeDefault", Ref: "runtime/default", Digest: "sha256:093a8ddc0ba17814da9fb828d07b93bc793e14d184e553fd04a48bf6ba5c4bac"},
			Status:   verify.StatusDiffers, Problem: "1 thread(s) do not hold the decided filter", Drift: &verify.Drift{Changed: true, Reason: "the policy changed"}},
		{Cgroup: "/user.slice", InitPID: 77, Seccomp: "disabled", Class: verify.ClassUnconfined, Status: verify.StatusNotDecided},
	}
	var b strings.Builder
	printPs(&b, reports, true)
	out := b.String()
	for _, want := range []string{
		"CONTAINER", "DRIFT",
		"ababababab", "shop/web-1", "containerd-shim-runc-v2 (sysgate-runc)", "RuntimeDefault runtime/default", "093a8ddc0ba1", "filter:1", "differs", "changed",
		"? (cgroup /user.slice, pid 77)", "(not decided by sysgate)", "disabled", "not-decided",
		id[:12] + ": differs: 1 thread(s) do not hold the decided filter",
		id[:12] + ": drift: the policy changed",
		"2 containers: 1 confined by sysgate, 0 confined otherwise, 1 unconfined",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("ps table lacks %q:\n%s", want, out)
		}
	}
}

func TestPrintDifferences(t *testing.T) {
	var diffs []verify.Difference
	for n := int32(0); n < 40; n += 2 {
		diffs = append(diffs, verify.Difference{ABI: "SCMP_ARCH_X86", From: n, To: n, Installed: "SCMP_ACT_KILL_PROCESS", Decided: "SCMP_ACT_ALLOW"})
	}
	diffs = append(diffs, verify.Difference{ABI: "SCMP_ARCH_X86_64", From: 83, To: 83, Syscall: "mkdir", Installed: "SCMP_ACT_ERRNO(1)", Decided: "SCMP_ACT_ALLOW"})
	var b strings.Builder
	printDifferences(&b, diffs)
	for _, want := range []string{
		"x86, 20 syscall number(s): installed SCMP_ACT_KILL_PROCESS, decided SCMP_ACT_ALLOW: 0, 2, 4,", ", ... (8 more)",
		"x86_64, 1 syscall number(s): installed SCMP_ACT_ERRNO(1), decided SCMP_ACT_ALLOW: mkdir (83)",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("lacks %q:\n%s", want, b.String())
		}
	}
}
