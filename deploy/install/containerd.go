package install

import (
	"fmt"
	"regexp"
	"strings"
)

// The block the DaemonSet's shell installer wrote before `sysgate install`
// existed (printf '\n%s\n' of BEGIN, the snippet, END). Its `version = 2`
// line, if it added one, stays: containerd 1.x needs it.
var legacyBlock = regexp.MustCompile(`(?s)\n?# BEGIN sysgate \(managed by the sysgate DaemonSet\)\n.*?\n# END sysgate\n`)

func containerdLegacyBlock(current []byte) []Insert {
	locs := legacyBlock.FindAllIndex(current, -1)
	if len(locs) != 1 {
		return nil // none, or more than one: leave it to the operator
	}
	return []Insert{{locs[0][0], string(current[locs[0][0]:locs[0][1]])}}
}

// The CRI plugin's runtimes table in each config version.
var containerdRuntimes = map[int]struct {
	header string   // as written in a table header
	path   []string // as decoded
}{
	2: {`plugins."io.containerd.grpc.v1.cri".containerd.runtimes`, []string{"plugins", "io.containerd.grpc.v1.cri", "containerd", "runtimes"}},
	3: {`plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes`, []string{"plugins", "io.containerd.cri.v1.runtime", "containerd", "runtimes"}},
}

var containerd = &Engine{
	Name:        "containerd",
	DefaultPath: "/etc/containerd/config.toml",
	Binaries:    []string{"containerd"},
	Unit:        "containerd",
	Format:      "toml",
	plan:        planContainerd,
	legacy:      containerdLegacyBlock,
	lookup: func(doc map[string]any, o Options) (string, bool) {
		v, _ := containerdVersion(doc, o)
		rt, ok := containerdRuntimes[v]
		if !ok {
			return "", false
		}
		h := lookup(doc, append(rt.path, o.Handler)...)
		if h == nil {
			return "", false
		}
		bin, _ := lookup(h, "options")["BinaryName"].(string)
		if bin == "" {
			bin = "runc" // containerd's runc shim runs runc from PATH
		}
		return bin, true
	},
}

// containerdVersion is the file's version, or the one install gives a
// file without it.
func containerdVersion(doc map[string]any, o Options) (v int, present bool) {
	if raw, ok := doc["version"]; ok {
		n, _ := raw.(int64)
		return int(n), true
	}
	if o.ContainerdConfigVersion != 0 {
		return o.ContainerdConfigVersion, false
	}
	return 2, false
}

// planContainerd appends the handler tables at the end of the file, between
// BEGIN/END comments: a table header is absolute, so the end of the file is
// right whatever table comes last. A file without a version line first gets
// one, since containerd reads such a file as version 1, where these plugin
// names mean nothing.
func planContainerd(before []byte, o Options) ([]Insert, string, error) {
	doc, err := decode("toml", before)
	if err != nil {
		return nil, "", fmt.Errorf("not valid TOML: %v; fix it first (sysgate edits only a config that parses)", err)
	}
	nl := newline(before)
	var inserts []Insert
	var added strings.Builder
	v, present := containerdVersion(doc, o)
	if present {
		if _, ok := doc["version"].(int64); !ok {
			return nil, "", fmt.Errorf("key version: %v is not an integer", doc["version"])
		}
	}
	rt, ok := containerdRuntimes[v]
	if !ok {
		return nil, "", fmt.Errorf("key version: config version %d; sysgate edits versions 2 (containerd 1.6/1.7) and 3 (2.x); migrate with `containerd config migrate`", v)
	}
	if !present {
		inserts = append(inserts, Insert{0, fmt.Sprintf("version = %d # added by sysgate install: containerd reads a file without one as version 1%s", v, nl)})
		fmt.Fprintf(&added, "version = %d\n", v)
	}
	runtimes := lookup(doc, rt.path...)
	handlers := []string{o.Handler}
	if o.ShimHandler != "" && v == 3 {
		handlers = append(handlers, o.ShimHandler)
	}
	for _, h := range handlers {
		if _, taken := runtimes[h]; taken {
			return nil, "", fmt.Errorf("table %s.%s: a runtime handler named %q exists and sysgate install has no record of adding it; remove it, or pick another name with --handler", rt.header, h, h)
		}
	}
	systemd, _ := lookup(runtimes, "runc", "options")["SystemdCgroup"].(bool)
	q := func(s string) string {
		if v == 3 {
			return "'" + s + "'"
		}
		return `"` + s + `"`
	}
	list := func(ss []string) string {
		var qs []string
		for _, s := range ss {
			qs = append(qs, q(s))
		}
		return "[" + strings.Join(qs, ", ") + "]"
	}
	var block []string
	block = append(block, "# BEGIN sysgate (added by `sysgate install`; `sysgate uninstall` takes it out)")
	for _, h := range handlers {
		table := "[" + rt.header + "." + h + "]"
		block = append(block, table)
		if h == o.Handler {
			block = append(block, "  runtime_type = "+q("io.containerd.runc.v2"))
		} else {
			block = append(block, "  runtime_type = "+q("io.containerd.sysgate.v1"))
		}
		block = append(block,
			"  pod_annotations = "+list(seccompAnnotations),
			"  container_annotations = "+list(seccompAnnotations))
		if h == o.Handler {
			block = append(block, "  ["+rt.header+"."+h+".options]", "    BinaryName = "+q(o.RuntimePath))
			if systemd {
				// Keep the node's cgroup driver, as the runc handler has it.
				block = append(block, "    SystemdCgroup = true")
			}
		}
	}
	block = append(block, "# END sysgate")
	text := lines(nl, block...)
	inserts = append(inserts, appendBlock(before, nl, text))
	added.WriteString(strings.ReplaceAll(text, "\r\n", "\n"))
	return inserts, added.String(), nil
}
