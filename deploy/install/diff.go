package install

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Diff writes the change as a unified-style diff of the lines it adds
// (install) or takes out (uninstall, removing true): every edit is an
// insertion, so the inserted lines and where they go are the whole diff.
func (c *Change) Diff(w io.Writer, removing bool) {
	sign, verb := "+", "install"
	if removing {
		sign, verb = "-", "uninstall"
	}
	fmt.Fprintf(w, "--- %s\n+++ %s (sysgate %s)\n", c.Path, c.Path, verb)
	for _, in := range c.removed {
		// What a previous install added, replaced by this one.
		fmt.Fprintf(w, "@@ the previous install's lines @@\n")
		for _, l := range strings.SplitAfter(strings.ReplaceAll(in.Text, "\r\n", "\n"), "\n") {
			if l != "" {
				fmt.Fprintf(w, "-%s", strings.TrimSuffix(l, "\n")+"\n")
			}
		}
	}
	// Line numbers in the file without sysgate's lines.
	base := c.current
	if !removing {
		base = nil
		if r, err := revert(c.next, c.Inserts); err == nil {
			base = r
		}
	} else {
		base = c.next
	}
	ins := append([]Insert(nil), c.Inserts...)
	sort.SliceStable(ins, func(i, j int) bool { return ins[i].Offset < ins[j].Offset })
	for _, in := range ins {
		line := 1
		if in.Offset <= len(base) {
			line += bytes.Count(base[:in.Offset], []byte("\n"))
		}
		text := strings.ReplaceAll(in.Text, "\r\n", "\n")
		n := strings.Count(text, "\n")
		if !strings.HasSuffix(text, "\n") {
			n++
		}
		fmt.Fprintf(w, "@@ line %d, %d lines @@\n", line, n)
		for _, l := range strings.SplitAfter(text, "\n") {
			if l == "" {
				continue
			}
			fmt.Fprintf(w, "%s%s", sign, l)
			if !strings.HasSuffix(l, "\n") {
				fmt.Fprintln(w)
			}
		}
	}
}
