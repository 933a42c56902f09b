package probe_test

import (
	"testing"

	"github.com/sysgate/sysgate/conformance/probe"
)

// TestParseExitStatus: a runtime reports a killed container as 128+N, and
// that must read as a kill only when the probe printed nothing.
func TestParseExitStatus(t *testing.T) {
	const eperm = `{"abi":"native","nr":83,"ret":-1,"errno":1,"errname":"EPERM"}`
	for _, tc := range []struct {
		name    string
		stdout  string
		status  int
		want    string
		wantErr bool
	}{
		{"report, exit 0", eperm + "\n", 0, "errno:EPERM", false},
		{"SIGSYS kill: 128+31, no output", "", 159, "killed:SIGSYS", false},
		{"SIGKILL: 128+9", "", 137, "killed:SIGKILL", false},
		{"report then 159 is not a kill", eperm, 159, "", true},
		{"exit 1 without a report (a runtime error)", "", 1, "", true},
		{"status 200 is not a signal", "", 200, "", true},
		{"out of range", "", 256, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := probe.ParseExitStatus([]byte(tc.stdout), tc.status)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v (result %+v)", err, tc.wantErr, res)
			}
			if err == nil && res.Outcome() != tc.want {
				t.Errorf("outcome %q, want %q", res.Outcome(), tc.want)
			}
		})
	}
}
