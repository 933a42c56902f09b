package shim

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sysgate/sysgate/spec"
)

// The C fast path decides, before the Go code runs, which command lines it
// may pass straight to the runtime; it must know exactly the global options
// this package knows, or a command line one of them misreads could skip the
// other's checks.
func TestFastPathKnowsTheSameGlobalOptions(t *testing.T) {
	src, err := os.ReadFile("../cmd/sysgate-runc/fastpath.c")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		array string
		want  []string
	}{
		{"value_flags", globalValueFlags},
		{"switch_flags", globalSwitches},
	} {
		m := regexp.MustCompile(`(?s)static const char \*const ` + tc.array + `\[\] = \{(.*?)\};`).FindSubmatch(src)
		if m == nil {
			t.Fatalf("fastpath.c has no array %s", tc.array)
		}
		var got []string
		for _, q := range regexp.MustCompile(`"([^"]*)"`).FindAllSubmatch(m[1], -1) {
			got = append(got, string(q[1]))
		}
		if !strings.Contains(string(m[1]), "NULL") || !slices.Equal(got, tc.want) {
			t.Errorf("fastpath.c %s = %q, shim/cli.go has %q", tc.array, got, tc.want)
		}
	}
}

// The C fast path repeats the helper protocol's constants and the default
// policy path; each must equal the Go side's.
func TestFastPathConstants(t *testing.T) {
	src, err := os.ReadFile("../cmd/sysgate-runc/fastpath.c")
	if err != nil {
		t.Fatal(err)
	}
	define := func(name string) string {
		m := regexp.MustCompile(`(?m)^#define ` + name + ` (.+)$`).FindSubmatch(src)
		if m == nil {
			t.Fatalf("fastpath.c has no #define %s", name)
		}
		return strings.Trim(strings.TrimSpace(string(m[1])), `"`)
	}
	for _, c := range []struct{ name, c, goValue string }{
		{"POLICY_DEFAULT", define("POLICY_DEFAULT"), spec.DefaultPolicyPath},
		{"HELPER_SOCKET_DEFAULT", define("HELPER_SOCKET_DEFAULT"), DefaultHelperSocket},
		{"HELPER_PROTOCOL", define("HELPER_PROTOCOL"), HelperProtocol},
		{"REQUEST_MAX", define("REQUEST_MAX"), strconv.Itoa(helperRequestMax)},
	} {
		if c.c != c.goValue {
			t.Errorf("fastpath.c %s = %q, Go has %q", c.name, c.c, c.goValue)
		}
	}
	// The client gives up before the helper's own deadline, so that a
	// helper still working cannot write a bundle the client prepares too.
	timeout, err := strconv.Atoi(define("HELPER_TIMEOUT_SECONDS"))
	if err != nil || time.Duration(timeout)*time.Second >= helperDeadline {
		t.Errorf("fastpath.c HELPER_TIMEOUT_SECONDS %q must be below the helper's deadline %s", define("HELPER_TIMEOUT_SECONDS"), helperDeadline)
	}
	if !strings.Contains(string(src), `getenv("`+HelperSocketEnv+`")`) || !strings.Contains(string(src), `getenv("`+spec.PolicyPathEnv+`")`) {
		t.Errorf("fastpath.c does not read %s and %s", HelperSocketEnv, spec.PolicyPathEnv)
	}
}
