package conformance

import (
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/spec/profile"
)

// TestCasesCoverTheIssue: the suite has at least 40 cases, and each topic
// issue #6 lists has cases. A topic without one would silently drop out of
// every report.
func TestCasesCoverTheIssue(t *testing.T) {
	cases := Cases()
	if len(cases) < 40 {
		t.Errorf("%d cases, want at least 40", len(cases))
	}
	has := func(pred func(Case) bool) bool {
		for _, c := range cases {
			if pred(c) {
				return true
			}
		}
		return false
	}
	actionOf := func(a specs.LinuxSeccompAction) func(Case) bool {
		return func(c Case) bool {
			if c.Profile == nil || c.Want.Outcome == OutcomeRefused {
				return false
			}
			if c.Profile.DefaultAction == a {
				return true
			}
			for _, r := range c.Profile.Syscalls {
				if r.Action == a {
					return true
				}
			}
			return false
		}
	}
	for _, a := range []specs.LinuxSeccompAction{specs.ActAllow, specs.ActErrno, specs.ActKill, specs.ActKillThread,
		specs.ActKillProcess, specs.ActTrap, specs.ActLog, specs.ActTrace, specs.ActNotify} {
		if !has(actionOf(a)) {
			t.Errorf("no case runs a container under %s", a)
		}
	}
	for _, op := range []specs.LinuxSeccompOperator{specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpEqualTo,
		specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual} {
		if !has(func(c Case) bool { return c.Profile != nil && strings.Contains(profileString(c.Profile), string(op)) }) {
			t.Errorf("no case checks %s", op)
		}
	}
	for _, want := range []struct{ what, glob string }{
		{"custom errnoRet", "action/errno-errnoret"},
		{"defaultErrnoRet", "action/default-errnoret"},
		{"repeated index as OR", "args/same-index-or-*"},
		{"i386 listed", "arch/i386-listed"},
		{"i386 not listed", "arch/i386-unlisted"},
		{"x32 listed", "arch/x32-listed"},
		{"x32 not listed", "arch/x32-unlisted"},
		{"ENOSYS for newer syscalls", "enosys/newer-syscall"},
		{"flag LOG", "flags/log"},
		{"flag SPEC_ALLOW", "flags/spec-allow"},
		{"Seccomp: 2 for init", "status/init-seccomp-2"},
		{"Seccomp: 2 for exec", "status/exec-seccomp-2"},
		{"errnoRet with ALLOW refused", "must/errnoret-with-allow"},
		{"listenerMetadata without listenerPath refused", "must/listener-metadata-without-path"},
		{"unknown action refused", "must/unknown-action"},
		{"unknown syscall names", "names/unknown-name"},
		{"an empty profile", "must/missing-default-action"},
		{"the seed's blocked mkdir", "seed/blocked-mkdir"},
	} {
		if got, err := Select(cases, []string{want.glob}); err != nil || len(got) == 0 {
			t.Errorf("%s: no case %s (%v)", want.what, want.glob, err)
		}
	}
}

func profileString(p *specs.LinuxSeccomp) string {
	var b strings.Builder
	for _, r := range p.Syscalls {
		for _, a := range r.Args {
			b.WriteString(string(a.Op) + " ")
		}
	}
	return b.String()
}

// TestCaseProfiles: a case's profile is what its expectation says. Cases
// that expect the container to run must hold profiles sysgate's own
// validator accepts (so that sysgate-runc passes them on), and cases that
// expect a refusal must hold profiles it rejects: otherwise the case tests
// the suite, not the runtime.
func TestCaseProfiles(t *testing.T) {
	for _, c := range Cases() {
		if c.Profile == nil {
			continue
		}
		p, _ := withListener(c.Profile, "/run/x")
		var errs []string
		for _, f := range profile.Validate(p) {
			if f.Severity == profile.SeverityError {
				errs = append(errs, f.String())
			}
		}
		refused := c.Want.Outcome == OutcomeRefused
		switch {
		case c.Name == "must/listener-unreachable":
			// Valid as written; only the missing agent makes it fail.
		case refused && len(errs) == 0:
			t.Errorf("%s expects a refusal, but sysgate's validator accepts the profile", c.Name)
		case !refused && len(errs) > 0:
			t.Errorf("%s expects the container to run, but sysgate's validator rejects the profile: %v", c.Name, errs)
		case !refused:
			if _, err := filter.Compile(p, filter.Options{}); err != nil {
				t.Errorf("%s: the profile does not compile: %v", c.Name, err)
			}
		}
	}
}

// TestActionsResolve: every probe call names a syscall the probe's ABI has.
func TestActionsResolve(t *testing.T) {
	for _, c := range Cases() {
		argv, _, err := c.Do.argv()
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if c.Do.Kind != Shell && argv[0] != probeInContainer {
			t.Errorf("%s: runs %s, not the probe", c.Name, argv[0])
		}
	}
}

// TestDenyingKeepsTheRuntimeAlive: allow-list profiles allow execve and the
// probe's start-up, or every deny-default case would fail for the wrong
// reason, and leave out what they exclude.
func TestDenyingKeepsTheRuntimeAlive(t *testing.T) {
	p := denying(specs.ActErrno, profileMaxNr, "mkdir")
	names := map[string]bool{}
	for _, n := range p.Syscalls[0].Names {
		names[n] = true
	}
	for _, need := range []string{"execve", "write", "exit_group", "rt_sigaction", "brk", "arch_prctl", "rseq", "futex"} {
		if !names[need] {
			t.Errorf("the allow-list lacks %s", need)
		}
	}
	if names["mkdir"] || names["faccessat2"] {
		t.Errorf("the allow-list has mkdir or faccessat2: %v %v", names["mkdir"], names["faccessat2"])
	}
}

// TestSelect: globs select by name, several globs add up, and a glob that
// matches nothing is an error rather than an empty, passing run.
func TestSelect(t *testing.T) {
	cases := Cases()
	got, err := Select(cases, []string{"action/kill*", "seed/blocked-mkdir"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range got {
		names = append(names, c.Name)
	}
	if want := "action/kill-thread action/kill-process action/kill seed/blocked-mkdir"; strings.Join(names, " ") != want {
		t.Errorf("selected %v, want %s", names, want)
	}
	if _, err := Select(cases, []string{"action/kil"}); err == nil {
		t.Error("a glob matching nothing was accepted")
	}
	if _, err := Select(cases, []string{"["}); err == nil {
		t.Error("a malformed glob was accepted")
	}
	if all, _ := Select(cases, nil); len(all) != len(cases) {
		t.Error("no globs must select every case")
	}
}

// TestExpectedFailureFiles: the committed lists parse, every line names a
// case, and every reason is written out.
func TestExpectedFailureFiles(t *testing.T) {
	files, _ := filepath.Glob("expected-failures/*.txt")
	if len(files) < 4 {
		t.Fatalf("expected-failures/: %d files, want one per target (4)", len(files))
	}
	for _, f := range files {
		ds, err := LoadDeviations(f)
		if err != nil {
			t.Error(err)
			continue
		}
		if len(ds) == 0 {
			t.Errorf("%s lists nothing; delete it or list the deviations", f)
		}
		if stale := ds.Unmatched(Cases()); len(stale) > 0 {
			t.Errorf("%s: %v match no case", f, stale)
		}
		for _, d := range ds {
			if len(d.Reason) < 20 {
				t.Errorf("%s: %s: the reason %q does not explain anything", f, d.Glob, d.Reason)
			}
		}
	}
}
