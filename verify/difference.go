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
