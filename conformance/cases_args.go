package conformance

import (
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// argCase is one operator check: a condition on umask's first argument,
// and two calls, one that meets it (ERRNO EXDEV) and one that does not
// (allowed). umask(2) always succeeds and takes any value, and seccomp
// compares the whole 64-bit register, so the operator alone decides.
type argCase struct {
	name     string
	cond     specs.LinuxSeccompArg
	hit, mis uint64 // an argument that meets the condition, one that does not
}

// The boundaries sit on the value itself, where an off-by-one or a signed
// or 32-bit comparison would show.
var argOperatorCases = []argCase{
	{"ne", specs.LinuxSeccompArg{Value: 100, Op: specs.OpNotEqual}, 7, 100},
	{"lt", specs.LinuxSeccompArg{Value: 100, Op: specs.OpLessThan}, 99, 100},
	{"le", specs.LinuxSeccompArg{Value: 100, Op: specs.OpLessEqual}, 100, 101},
	{"eq", specs.LinuxSeccompArg{Value: 100, Op: specs.OpEqualTo}, 100, 101},
	{"ge", specs.LinuxSeccompArg{Value: 100, Op: specs.OpGreaterEqual}, 100, 99},
	{"gt", specs.LinuxSeccompArg{Value: 100, Op: specs.OpGreaterThan}, 101, 100},
	// (arg & 0o700) == 0o100
	{"masked-eq", specs.LinuxSeccompArg{Value: 0o700, ValueTwo: 0o100, Op: specs.OpMaskedEqual}, 0o144, 0o244},
	// The upper half counts: 0x1_0000_0064 is not 100.
	{"eq-64bit", specs.LinuxSeccompArg{Value: 0x1_0000_0064, Op: specs.OpEqualTo}, 0x1_0000_0064, 100},
	// Values above 2^63 compare unsigned.
	{"gt-unsigned", specs.LinuxSeccompArg{Value: 1 << 63, Op: specs.OpGreaterThan}, 1<<63 + 1, 1},
}

func argCases() []Case {
	var cases []Case
	for _, ac := range argOperatorCases {
		profile := allowing(ruleArgs("umask", ac.cond))
		cond := fmt.Sprintf("%s %#x", ac.cond.Op, ac.cond.Value)
		if ac.cond.Op == specs.OpMaskedEqual {
			cond = fmt.Sprintf("(arg & %#o) == %#o", ac.cond.Value, ac.cond.ValueTwo)
		}
		cases = append(cases,
			Case{
				Name: "args/" + ac.name + "-match", Rule: ruleOperator,
				Summary: fmt.Sprintf("umask(%#x) meets %s: the rule's ERRNO(EXDEV) applies", ac.hit, cond),
				Profile: profile, Do: probeCall("umask", argValue(ac.hit)), Want: want("errno:EXDEV"),
			},
			Case{
				Name: "args/" + ac.name + "-no-match", Rule: ruleOperator,
				Summary: fmt.Sprintf("umask(%#x) does not meet %s: the default action (allow) applies", ac.mis, cond),
				Profile: profile, Do: probeCall("umask", argValue(ac.mis)), Want: want("allowed"),
			})
	}
	// Two conditions on the same index: each is a rule of its own (OR).
	or := allowing(ruleArgs("umask",
		specs.LinuxSeccompArg{Index: 0, Value: 100, Op: specs.OpEqualTo},
		specs.LinuxSeccompArg{Index: 0, Value: 200, Op: specs.OpEqualTo}))
	// Conditions on different indexes: all must hold (AND). umask ignores
	// its second register, but seccomp sees it.
	and := allowing(ruleArgs("umask",
		specs.LinuxSeccompArg{Index: 0, Value: 100, Op: specs.OpEqualTo},
		specs.LinuxSeccompArg{Index: 1, Value: 7, Op: specs.OpEqualTo}))
	return append(cases,
		Case{Name: "args/same-index-or-first", Rule: ruleArgsOr,
			Summary: "index 0 == 100 OR index 0 == 200: umask(100) is denied",
			Profile: or, Do: probeCall("umask", "100"), Want: want("errno:EXDEV")},
		Case{Name: "args/same-index-or-second", Rule: ruleArgsOr,
			Summary: "index 0 == 100 OR index 0 == 200: umask(200) is denied",
			Profile: or, Do: probeCall("umask", "200"), Want: want("errno:EXDEV")},
		Case{Name: "args/same-index-or-neither", Rule: ruleArgsOr,
			Summary: "index 0 == 100 OR index 0 == 200: umask(300) is allowed",
			Profile: or, Do: probeCall("umask", "300"), Want: want("allowed")},
		Case{Name: "args/different-index-and-both", Rule: ruleArgsAnd,
			Summary: "index 0 == 100 AND index 1 == 7: umask(100, 7) is denied",
			Profile: and, Do: probeCall("umask", "100", "7"), Want: want("errno:EXDEV")},
		Case{Name: "args/different-index-and-one", Rule: ruleArgsAnd,
			Summary: "index 0 == 100 AND index 1 == 7: umask(100, 8) is allowed",
			Profile: and, Do: probeCall("umask", "100", "8"), Want: want("allowed")},
	)
}

// argValue writes v as the probe reads integers: hex for large values.
func argValue(v uint64) string {
	if v > 1<<62 {
		return "0x" + strconv.FormatUint(v, 16)
	}
	return strconv.FormatUint(v, 10)
}
