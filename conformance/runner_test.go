package conformance

import "testing"

// TestClassify: how a finished process becomes an outcome; above all, a
// runtime's refusal must not read as a probe result and the other way round.
func TestClassify(t *testing.T) {
	const eperm = `{"abi":"native","nr":83,"ret":-1,"errno":1,"errname":"EPERM"}` + "\n"
	for _, tc := range []struct {
		name string
		kind ActionKind
		inv  invocation
		want string
	}{
		{"probe report", Syscall, invocation{0, []byte(eperm), nil}, "errno:EPERM"},
		{"killed by SIGSYS (128+31)", Syscall, invocation{159, nil, nil}, "killed:SIGSYS"},
		{"runtime refused", Syscall, invocation{1, nil, []byte("runc run failed: bad action\n")}, OutcomeRefused},
		{"probe usage error is not a refusal", Syscall, invocation{2, nil, []byte("sysgate-probe: NR must be an integer\n")}, "probe-error"},
		{"status", Status, invocation{0, []byte(`{"seccomp":2,"seccomp_filters":1,"no_new_privs":1}`), nil}, "seccomp:2"},
		{"status refused", Status, invocation{1, nil, []byte("crun: invalid seccomp action\n")}, OutcomeRefused},
		{"shell success", Shell, invocation{0, []byte("bin\ntmp\n"), nil}, "exit:0"},
		{"shell failure keeps the message", Shell, invocation{1, nil, []byte("mkdir: can't create directory '/tmp/test': Operation not permitted\n")},
			"exit:1: mkdir: can't create directory '/tmp/test': Operation not permitted"},
	} {
		if got := classify(tc.kind, tc.inv).outcome; got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestExpectMatches(t *testing.T) {
	e := Expect{Outcome: "killed:SIGSYS", Or: []string{"errno:ENOSYS"}}
	for obs, want := range map[string]bool{"killed:SIGSYS": true, "errno:ENOSYS": true, "errno:EPERM": false, "allowed": false} {
		if e.matches(obs, false) != want {
			t.Errorf("%s: matches = %v", obs, !want)
		}
	}
	a := Expect{Outcome: "allowed", Audited: true}
	if a.matches("allowed", false) || !a.matches("allowed", true) {
		t.Error("an audited expectation must need the audit record")
	}
	if a.String() != "allowed +audit" || e.String() != "killed:SIGSYS | errno:ENOSYS" {
		t.Errorf("String: %q %q", a, e)
	}
}

func TestTidyMessage(t *testing.T) {
	in := `time="2026-11-29T20:45:52Z" level=error msg="runc run failed: dial unix /tmp/w/022-0/x.sock: \"quoted\""`
	if got, want := tidyMessage(in, "/tmp/w"), `runc run failed: dial unix $WORK/022-0/x.sock: "quoted"`; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if got := tidyMessage("crun: plain", "/tmp/w"); got != "crun: plain" {
		t.Errorf("%q", got)
	}
}
