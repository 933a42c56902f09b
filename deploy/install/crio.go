package install

import "fmt"

// CRI-O reads drop-in files in lexical order after crio.conf; sysgate owns
// one whole file, so crio.conf is never touched.
var crio = &Engine{
	Name:        "crio",
	DefaultPath: "/etc/crio/crio.conf.d/50-sysgate.conf",
	Binaries:    []string{"crio"},
	Unit:        "crio",
	Format:      "toml",
	plan: func(before []byte, o Options) ([]Insert, string, error) {
		if len(trimSpace(before)) != 0 {
			return nil, "", fmt.Errorf("the drop-in exists and sysgate install has no record of writing it; remove it or name another file with --crio-config")
		}
		text := lines("\n",
			"# added by `sysgate install`; `sysgate uninstall` removes it",
			"[crio.runtime.runtimes."+o.Handler+"]",
			`runtime_path = "`+o.RuntimePath+`"`,
			`runtime_type = "oci"`)
		return []Insert{{len(before), text}}, text, nil
	},
	lookup: func(doc map[string]any, o Options) (string, bool) {
		h := lookup(doc, "crio", "runtime", "runtimes", o.Handler)
		if h == nil {
			return "", false
		}
		p, _ := h["runtime_path"].(string)
		return p, true
	},
}
