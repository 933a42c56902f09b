package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sysgate/sysgate/shim/nri"

	"github.com/sysgate/sysgate/deploy/install"
	"github.com/sysgate/sysgate/shim"
	"github.com/sysgate/sysgate/spec"
)

// A finding is one line of doctor's report: what was checked, OK or not,
// and the command that fixes it.
type finding struct {
	Check  string `json:"check"`
	Status string `json:"status"` // ok, warn (works, but see the fix), fail (broken: exit 1)
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

const (
	statusOK   = "ok"
	statusWarn = "warn"
	statusFail = "fail"
)

// doctorEnv is what doctor looks at; every path is a flag so that tests
// build a node under a temporary directory.
type doctorEnv struct {
	policyPath   string
	recordPath   string
	helperSocket string
	nriSocket    string
	handler      string
	enginePaths  map[string]string // --ENGINE-config given, else the record's or the default
	chosen       map[string]bool   // engines named on the command line
	procRoot     string
}

type report struct {
	findings []finding
}

func (r *report) add(check, status, detail, fix string) {
	r.findings = append(r.findings, finding{check, status, detail, fix})
}

func runDoctor(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("doctor", "[--output text|json] [--config FILE] [--record FILE] [--helper-socket PATH] [--nri-socket PATH] [--ENGINE] [--ENGINE-config FILE]", stdout)
	output := outputFlag(fs)
	policyPath := fs.String("config", spec.PolicyPath(), "the node policy file")
	recordPath := fs.String("record", install.DefaultRecordPath, "the record `sysgate install` left (which engine files to check)")
	socket := fs.String("helper-socket", shim.DefaultHelperSocket, "the create helper's socket")
	nriSocket := fs.String("nri-socket", nri.DefaultSocket, "containerd's NRI socket: the plugins registering there are checked")
	handler := fs.String("handler", install.DefaultHandler, "the runtime handler's name in the engines' configs")
	ef := addEngineFlags(fs, "check", true)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	env := doctorEnv{policyPath: *policyPath, recordPath: *recordPath, helperSocket: *socket, nriSocket: *nriSocket, handler: *handler,
		enginePaths: map[string]string{}, chosen: map[string]bool{}, procRoot: "/proc"}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, e := range install.Engines {
		if given[e.Name+"-config"] {
			env.enginePaths[e.Name] = *ef.path[e.Name]
		}
		if *ef.pick[e.Name] {
			env.chosen[e.Name] = true
		}
	}
	start := time.Now()
	r := &report{}
	doctor(env, r)
	took := time.Since(start)

	failed := 0
	for _, f := range r.findings {
		if f.Status == statusFail {
			failed++
		}
	}
	if *output == "json" {
		if err := writeJSON(stdout, struct {
			Healthy  bool      `json:"healthy"`
			Findings []finding `json:"findings"`
			Millis   int64     `json:"ms"`
		}{failed == 0, r.findings, took.Milliseconds()}); err != nil {
			return err
		}
	} else {
		for _, f := range r.findings {
			fmt.Fprintf(stdout, "%-5s %-22s %s\n", strings.ToUpper(f.Status), f.Check, f.Detail)
			if f.Fix != "" {
				fmt.Fprintf(stdout, "      %-22s fix: %s\n", "", f.Fix)
			}
		}
		if failed == 0 {
			fmt.Fprintf(stdout, "\nhealthy (%d checks in %d ms)\n", len(r.findings), took.Milliseconds())
		} else {
			fmt.Fprintf(stdout, "\n%d of %d checks failed (%d ms)\n", failed, len(r.findings), took.Milliseconds())
		}
	}
	if failed > 0 {
		return exitError(exitFailure)
	}
	return nil
}

// doctor runs every check, in the order an operator would fix things:
// the kernel, the policy and profiles, the runtime, the engines, the
// helper, then what runs now.
func doctor(env doctorEnv, r *report) {
	checkKernel(r)
	policy, ok := checkPolicy(env, r)
	if ok {
		checkProfiles(policy, r)
		checkDisk(policy, r)
		checkRuntime(policy, r)
	}
	checkEngines(env, r)
	checkHelper(env, r)
	checkNRI(env, r, policy, ok)
	checkUnconfined(env, r)
}
