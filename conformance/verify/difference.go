package verify

import (
	"fmt"
	"strings"
)

// String is one line: where, then both verdicts, e.g.
// "x86_64 mkdir (83): installed SCMP_ACT_ERRNO(1), decided SCMP_ACT_ALLOW".
func (d Difference) String() string {
	var b strings.Builder
	b.WriteString(string(abiOf(d.ABI).name()))
	switch {
	case d.From != d.To:
		fmt.Fprintf(&b, " %d..%d", d.From, d.To)
	case d.Syscall != "":
		fmt.Fprintf(&b, " %s (%d)", d.Syscall, d.From)
	default:
		fmt.Fprintf(&b, " nr %d", d.From)
	}
	if d.Args != nil {
		b.WriteString(" args [")
		for i, a := range d.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%#x", a)
		}
		b.WriteString("]")
	}
	fmt.Fprintf(&b, ": installed %s, decided %s", d.Installed, d.Decided)
	return b.String()
}

// name is how the ABI is called in reports: x86_64, x86 (i386), x32.
func (a abi) name() string {
	return strings.ToLower(strings.TrimPrefix(string(a.arch), "SCMP_ARCH_"))
}

// DifferenceGroup is every difference of one ABI with the same pair of
// verdicts for all arguments: the way to read a report where a stacked
// filter kills a whole ABI, or a profile allows a different set.
type DifferenceGroup struct {
	ABI       string
	Installed string
	Decided   string
	// Where lists the syscalls ("mkdir (83)") and runs of numbers
	// ("451..1023"), in order.
	Where []string
	// Count is how many syscall numbers the group covers.
	Count int
}

// GroupDifferences gathers differences for every argument by ABI and
// verdicts, in the order they first appear; those that hold for some
// arguments only stay as they are, in the second result.
func GroupDifferences(diffs []Difference) ([]DifferenceGroup, []Difference) {
	var groups []DifferenceGroup
	var perArgs []Difference
	index := map[[3]string]int{}
	for _, d := range diffs {
		if d.Args != nil {
			perArgs = append(perArgs, d)
			continue
		}
		key := [3]string{string(d.ABI), d.Installed, d.Decided}
		i, ok := index[key]
		if !ok {
			i = len(groups)
			index[key] = i
			groups = append(groups, DifferenceGroup{ABI: abiOf(d.ABI).name(), Installed: d.Installed, Decided: d.Decided})
		}
		g := &groups[i]
		switch {
		case d.From != d.To:
			g.Where = append(g.Where, fmt.Sprintf("%d..%d", d.From, d.To))
		case d.Syscall != "":
			g.Where = append(g.Where, fmt.Sprintf("%s (%d)", d.Syscall, d.From))
		default:
			g.Where = append(g.Where, fmt.Sprint(d.From))
		}
		g.Count += int(d.To-d.From) + 1
	}
	return groups, perArgs
}
