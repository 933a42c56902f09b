package install

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// dockerd reads runtimes from daemon.json's "runtimes" object (name →
// {"path": ...}). The handler goes first in that object, or a new
// "runtimes" member goes first in the top-level object: an insert right
// after an opening brace needs no knowledge of the rest of the file.
var docker = &Engine{
	Name:        "docker",
	DefaultPath: "/etc/docker/daemon.json",
	Binaries:    []string{"dockerd"},
	Unit:        "docker",
	Format:      "json",
	plan:        planDocker,
	lookup: func(doc map[string]any, o Options) (string, bool) {
		h, ok := lookup(doc, "runtimes")[o.Handler].(map[string]any)
		if !ok {
			return "", false
		}
		p, _ := h["path"].(string)
		return p, true
	},
}

func planDocker(before []byte, o Options) ([]Insert, string, error) {
	handler := fmt.Sprintf(`"%s": {"path": "%s"}`, o.Handler, o.RuntimePath)
	added := `{"runtimes": {` + handler + `}}`
	nl := newline(before)
	if len(trimSpace(before)) == 0 {
		text := lines(nl, "{", `  "runtimes": {`, "    "+handler, "  }", "}")
		return []Insert{{len(before), text}}, added, nil
	}
	top, runtimes, runtimesEmpty, topEmpty, err := scanDaemonJSON(before, o.Handler)
	if err != nil {
		return nil, "", err
	}
	if runtimes >= 0 {
		text := nl + "    " + handler
		if runtimesEmpty {
			text += nl + "  "
		} else {
			text += ","
		}
		return []Insert{{runtimes, text}}, added, nil
	}
	text := nl + `  "runtimes": {` + handler + `}`
	if topEmpty {
		text += nl
	} else {
		text += ","
	}
	return []Insert{{top, text}}, added, nil
}

// scanDaemonJSON returns the offsets just after the top-level object's
// opening brace and after the "runtimes" object's (-1 when there is none),
// and whether each is empty. A duplicate "runtimes" key, or a handler of
// the same name, is refused: dockerd would read the file differently
// from what sysgate checked.
func scanDaemonJSON(data []byte, handler string) (top, runtimes int, runtimesEmpty, topEmpty bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	bad := func(e error) (int, int, bool, bool, error) {
		return 0, 0, false, false, fmt.Errorf("not valid JSON: %v; fix it first (sysgate edits only a config that parses)", e)
	}
	tok, err := dec.Token()
	if err != nil {
		return bad(err)
	}
	if tok != json.Delim('{') {
		return bad(errors.New("the top level is not an object"))
	}
	top, runtimes = int(dec.InputOffset()), -1
	topEmpty = !dec.More()
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bad(err)
		}
		key := tok.(string)
		if seen[key] {
			return 0, 0, false, false, fmt.Errorf("key %q appears twice; remove one", key)
		}
		seen[key] = true
		if key != "runtimes" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return bad(err)
			}
			continue
		}
		tok, err = dec.Token()
		if err != nil {
			return bad(err)
		}
		if tok != json.Delim('{') {
			return 0, 0, false, false, errors.New(`key "runtimes" is not an object; fix it first`)
		}
		runtimes = int(dec.InputOffset())
		runtimesEmpty = !dec.More()
		names := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return bad(err)
			}
			name := tok.(string)
			if names[name] {
				return 0, 0, false, false, fmt.Errorf("runtimes: %q appears twice; remove one", name)
			}
			names[name] = true
			if name == handler {
				return 0, 0, false, false, fmt.Errorf("runtimes: a runtime named %q exists and sysgate install has no record of adding it; remove it, or pick another name with --handler", handler)
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return bad(err)
			}
		}
		if _, err := dec.Token(); err != nil {
			return bad(err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return bad(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad(errors.New("data after the top-level object"))
	}
	return top, runtimes, runtimesEmpty, topEmpty, nil
}
