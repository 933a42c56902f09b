package vm

import (
	"bufio"
	"fmt"
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
	HostABIs map[string]bool    // the ABI-HOST line: filter.HostABIs as the tests saw it
	ABIRan   map[string]int     // tests that ran through an ABI (ABI-RAN lines)
	ABISkip  map[string]int     // tests skipped for want of an ABI (ABI-SKIP lines)
	Failures []string           // what Evaluate found wrong
	Tail     []string           // last lines of output, for failure reports
}

var (
	testLine = regexp.MustCompile(`^\s*--- (PASS|FAIL|SKIP): (\S+) \(`)
	logLine  = regexp.MustCompile(`^\s+\S+\.go:\d+: (.*)$`)
	abiLine  = regexp.MustCompile(`ABI-RESULT filter=(\S+) path=(\S+) outcome=(\S+) bypass=(true|false)`)
	x32Line  = regexp.MustCompile(`ABI-INFO x32=(live|off)`)
	hostLine = regexp.MustCompile(`ABI-HOST ((?:\S+=(?:yes|no) ?)+)`)
	ranLine  = regexp.MustCompile(`ABI-(RAN|SKIP) abi=(\w+)`)
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
		r.HostABIs = map[string]bool{}
		r.ABIRan = map[string]int{}
		r.ABISkip = map[string]int{}
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
		if m := hostLine.FindStringSubmatch(line); m != nil {
			for _, kv := range strings.Fields(m[1]) {
				k, v, _ := strings.Cut(kv, "=")
				r.HostABIs[k] = v == "yes"
			}
		}
		if m := ranLine.FindStringSubmatch(line); m != nil {
			if m[1] == "RAN" {
				r.ABIRan[m[2]]++
			} else {
				r.ABISkip[m[2]]++
			}
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
		if len(r.ABI) > 0 {
			if n, want := r.Bypasses("naive-bpf"), r.naiveBypasses(); n != want {
				fail(fmt.Sprintf("the naive control filter was bypassed %d times, want %d (two i386 paths where IA-32 is live, x32 where it is live): the bypass tests are blind", n, want))
			}
		}
		r.evaluateABIs(fail)
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

// naiveBypasses is how often the naive filter must be bypassed on this
// run's kernel: int $0x80 and the i386 binary where IA-32 is live, x32
// where x32 is.
func (r *Run) naiveBypasses() int {
	n := 0
	if r.HostABIs[abiI386] {
		n += 2
	}
	if r.X32 == "live" {
		n++
	}
	return n
}

const abiI386 = "i386"

// evaluateABIs holds the tests to "skip only where the kernel lacks the
// ABI": where the ABI probe found i386 live, tests must have run through it
// and none skipped for want of it; where it found it off, none may claim to
// have run. Debian's kernels all have IA-32 emulation, so a guest without
// it is a broken probe or boot.
func (r *Run) evaluateABIs(fail func(string)) {
	live, probed := r.HostABIs[abiI386]
	switch {
	case !probed:
		fail("no ABI-HOST line: TestKernelHostABIs did not run, so the ABI skips cannot be checked")
	case r.Kernel != nil && !live:
		fail("the ABI probe found no IA-32 emulation in a Debian kernel, which has it (IA32_EMULATION=y)")
	case live && r.ABIRan[abiI386] == 0:
		fail("IA-32 is live, but no test ran an i386 case")
	case live && r.ABISkip[abiI386] != 0:
		fail(fmt.Sprintf("IA-32 is live, but %d i386 tests skipped", r.ABISkip[abiI386]))
	case !live && r.ABIRan[abiI386] != 0:
		fail(fmt.Sprintf("IA-32 is off, but %d tests say they ran i386 cases", r.ABIRan[abiI386]))
	}
}
