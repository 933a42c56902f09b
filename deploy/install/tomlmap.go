package install

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	toml "github.com/pelletier/go-toml/v2"
)

// decode parses data as the format's document; empty input is an empty
// document.
func decode(format string, data []byte) (map[string]any, error) {
	doc := map[string]any{}
	if len(trimSpace(data)) == 0 {
		return doc, nil
	}
	switch format {
	case "toml":
		if err := toml.Unmarshal(data, &doc); err != nil {
			var de *toml.DecodeError
			if errors.As(err, &de) {
				row, col := de.Position()
				return nil, fmt.Errorf("line %d, column %d: %s", row, col, de.Error())
			}
			return nil, err
		}
	case "json":
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown format %q", format)
	}
	return doc, nil
}

func trimSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	for j > i && (b[j-1] == ' ' || b[j-1] == '\t' || b[j-1] == '\r' || b[j-1] == '\n') {
		j--
	}
	return b[i:j]
}

// lookup walks nested tables; nil when any step is missing or not a table.
func lookup(doc map[string]any, path ...string) map[string]any {
	node := doc
	for _, k := range path {
		next, ok := node[k].(map[string]any)
		if !ok {
			return nil
		}
		node = next
	}
	return node
}

// merge returns a copy of base with add laid over it, tables merged.
func merge(base, add map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(add))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range add {
		if bm, ok := out[k].(map[string]any); ok {
			if am, ok := v.(map[string]any); ok {
				out[k] = merge(bm, am)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// verify checks that after decodes to before plus added and nothing else:
// the splice changed no key the operator wrote, and the handler reads as
// intended.
func verify(format string, before, after []byte, added string) error {
	b, err := decode(format, before)
	if err != nil {
		return err
	}
	a, err := decode(format, after)
	if err != nil {
		return fmt.Errorf("the edited file would not parse (%v)", err)
	}
	add, err := decode(format, []byte(added))
	if err != nil {
		return fmt.Errorf("internal: the handler does not parse: %v", err)
	}
	if !reflect.DeepEqual(a, merge(b, add)) {
		return errors.New("the edited file would read as more than the old one plus the handler (an unusual layout of its tables)")
	}
	return nil
}
