package vm

import (
	"bufio"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// TestResult is one test's verdict as `go test -v` printed it.
type TestResult struct {
	Status string // PASS, FAIL or SKIP
	Reason string // first log line after a SKIP: the test's reason
}

// ABICell is one cell of TestKernelABIMatrix: a filter and a way into mkdir.
type ABICell struct {
	Outcome string // e.g. "errno:EPERM", "killed:SIGSYS", "allowed"
	Bypass  bool   // the filter was meant to block mkdir, and the directory exists
}

// Run is what one boot (or the host run) reported.
type Run struct {
	Name    string // e.g. "6.12 x32=y"
	Kernel  *Kernel
	X32Arg  bool // booted with syscall.x32=y
	Uname   string
	Cmdline string
	Actions string

	Begun, Finished bool
	RC              int
	BootTime        time.Duration // start to the guest's BEGIN line
	TestTime        time.Duration // BEGIN to END
	Total           time.Duration
	Err             string // why the run failed before or outside the tests

	Tests    map[string]TestResult // names with at most one '/'
	Order    []string
	ABI      map[string]ABICell // "filter path"
	X32      string             // "live" or "off", as TestKernelABIMatrix saw it
	Failures []string           // what Evaluate found wrong
	Tail     []string           // last lines of output, for failure reports
}

var (
	testLine = regexp.MustCompile(`^\s*--- (PASS|FAIL|SKIP): (\S+) \(`)
	logLine  = regexp.MustCompile(`^\s+\S+\.go:\d+: (.*)$`)
	abiLine  = regexp.MustCompile(`ABI-RESULT filter=(\S+) path=(\S+) outcome=(\S+) bypass=(true|false)`)
	x32Line  = regexp.MustCompile(`ABI-INFO x32=(live|off)`)
	endLine  = regexp.MustCompile(`SYSGATE-VM-END rc=(\d+)`)
)

// caseName keeps the first two levels of a test name: deeper subtests are
// single probe calls, too many for a matrix.
func caseName(full string) string {
	parts := strings.SplitN(full, "/", 3)
	if len(parts) > 2 {
		return ""
	}
	return full
}

// Parse reads the output of the guest (serial console) or of the host run
// and fills r. now stamps each line, for the boot and test times.
func (r *Run) Parse(out io.Reader, start time.Time, now func() time.Time) {
	if r.Tests == nil {
		r.Tests = map[string]TestResult{}
		r.ABI = map[string]ABICell{}
	}
	var begin time.Time
	pendingSkip := ""
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		r.Tail = append(r.Tail, line)
		if len(r.Tail) > 40 {
			r.Tail = r.Tail[1:]
		}
		if pendingSkip != "" {
			if m := logLine.FindStringSubmatch(line); m != nil {
				t := r.Tests[pendingSkip]
				t.Reason = m[1]
				r.Tests[pendingSkip] = t
			}
			pendingSkip = ""
		}
		switch {
		case strings.Contains(line, "SYSGATE-VM-BEGIN"):
			r.Begun = true
			begin = now()
			r.BootTime = begin.Sub(start)
		case strings.Contains(line, "SYSGATE-VM-INFO "):
			k, v, _ := strings.Cut(line[strings.Index(line, "SYSGATE-VM-INFO ")+len("SYSGATE-VM-INFO "):], "=")
			switch k {
			case "uname":
				r.Uname = v
			case "cmdline":
				r.Cmdline = v
			case "actions":
				r.Actions = v
			}
		case endLine.MatchString(line):
			m := endLine.FindStringSubmatch(line)
			r.Finished = true
			r.RC, _ = strconv.Atoi(m[1])
			r.TestTime = now().Sub(begin)
		}
		if m := testLine.FindStringSubmatch(line); m != nil {
			name := caseName(m[2])
			if name != "" {
				if _, seen := r.Tests[name]; !seen {
					r.Order = append(r.Order, name)
				}
				r.Tests[name] = TestResult{Status: m[1]}
				if m[1] == "SKIP" {
					pendingSkip = name
				}
			}
		}
		if m := abiLine.FindStringSubmatch(line); m != nil {
			r.ABI[m[1]+" "+m[2]] = ABICell{Outcome: m[3], Bypass: m[4] == "true"}
		}
		if m := x32Line.FindStringSubmatch(line); m != nil {
			r.X32 = m[1]
		}
	}
	r.Total = now().Sub(start)
}

// Bypasses counts the bypasses of one filter.
func (r *Run) Bypasses(filter string) int {
	n := 0
	for k, c := range r.ABI {
		if strings.HasPrefix(k, filter+" ") && c.Bypass {
			n++
		}
	}
	return n
}

// Evaluate checks what the tests cannot check from inside: that the run
// finished, that the ABI matrix really ran, and that x32 was live exactly
// when the kernel and its command line say it should be. It fills Failures
// and reports whether there are none.
func (r *Run) Evaluate() bool {
	fail := func(s string) { r.Failures = append(r.Failures, s) }
	switch {
	case r.Err != "":
		fail(r.Err)
	case !r.Begun:
		fail("the guest never reached init (no SYSGATE-VM-BEGIN line): the kernel did not boot")
	case !r.Finished:
		fail("the tests did not finish (no SYSGATE-VM-END line)")
	case r.RC != 0:
		fail("the kernel tests failed (exit status " + strconv.Itoa(r.RC) + ")")
	}
	if r.Begun {
		if t, ok := r.Tests["TestKernelABIMatrix"]; !ok || t.Status == "SKIP" {
			fail("TestKernelABIMatrix did not run (" + t.Status + " " + t.Reason + "): the ABI bypass cases were not tested")
		}
		for _, f := range []string{"sysgate-x86_64-only", "sysgate-all-arches"} {
			if n := r.Bypasses(f); n != 0 {
				fail(strconv.Itoa(n) + " bypasses of " + f)
			}
		}
		if len(r.ABI) > 0 && r.Bypasses("naive-bpf") < 2 {
			fail("the naive control filter was not bypassed: the bypass tests are blind")
		}
	}
	if k := r.Kernel; k != nil && r.Finished {
		want := "off"
		if k.X32Built() && (r.X32Arg || !k.X32DefaultOff()) {
			want = "live"
		}
		if r.X32 != want {
			fail("x32 is " + r.X32 + " in the guest, but this kernel and command line should make it " + want)
		}
	}
	return len(r.Failures) == 0
}
