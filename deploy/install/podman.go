package install

import (
	"fmt"
	"regexp"
	"strings"
)

// podman looks `--runtime NAME` up in containers.conf's [engine.runtimes],
// a table of name = [candidate paths]. TOML allows a table's header once,
// so when the file has [engine.runtimes] the handler goes right under that
// header; otherwise a new table goes at the end.
var podman = &Engine{
	Name:        "podman",
	DefaultPath: "/etc/containers/containers.conf",
	Binaries:    []string{"podman"},
	Format:      "toml",
	plan:        planPodman,
	lookup: func(doc map[string]any, o Options) (string, bool) {
		h, ok := lookup(doc, "engine", "runtimes")[o.Handler].([]any)
		if !ok {
			return "", false
		}
		if len(h) == 0 {
			return "", true
		}
		p, _ := h[0].(string)
		return p, true
	},
}

var engineRuntimesHeader = regexp.MustCompile(`(?m)^[ \t]*\[[ \t]*engine[ \t]*\.[ \t]*runtimes[ \t]*\][ \t]*(#[^\r\n]*)?(\r?\n|$)`)

func planPodman(before []byte, o Options) ([]Insert, string, error) {
	doc, err := decode("toml", before)
	if err != nil {
		return nil, "", fmt.Errorf("not valid TOML: %v; fix it first (sysgate edits only a config that parses)", err)
	}
	if _, taken := lookup(doc, "engine", "runtimes")[o.Handler]; taken {
		return nil, "", fmt.Errorf("table engine.runtimes: a runtime named %q exists and sysgate install has no record of adding it; remove it, or pick another name with --handler", o.Handler)
	}
	nl := newline(before)
	entry := o.Handler + ` = ["` + o.RuntimePath + `"]`
	added := "[engine.runtimes]\n" + entry + "\n"
	if loc := engineRuntimesHeader.FindIndex(before); loc != nil {
		at := loc[1]
		prefix := ""
		if at == len(before) && !strings.HasSuffix(string(before), "\n") {
			prefix = nl
		}
		text := prefix + lines(nl, "# BEGIN sysgate (added by `sysgate install`; `sysgate uninstall` takes it out)", entry, "# END sysgate")
		return []Insert{{at, text}}, added, nil
	}
	text := lines(nl, "# BEGIN sysgate (added by `sysgate install`; `sysgate uninstall` takes it out)", "[engine.runtimes]", entry, "# END sysgate")
	return []Insert{appendBlock(before, nl, text)}, added, nil
}
