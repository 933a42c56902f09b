package spec

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docs/policy.md documents the policy keys in a table; it must list exactly
// the keys the Policy struct reads, no more, no fewer.
func TestPolicyDocListsEveryKey(t *testing.T) {
	doc, err := os.ReadFile("../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|").FindAllSubmatch(doc, -1) {
		documented = append(documented, string(m[1]))
	}
	var keys []string
	typ := reflect.TypeOf(Policy{})
	for i := range typ.NumField() {
		if tag := typ.Field(i).Tag.Get("toml"); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	slices.Sort(documented)
	slices.Sort(keys)
	if !slices.Equal(documented, keys) {
		t.Errorf("docs/policy.md lists %v\nthe Policy struct reads %v", documented, keys)
	}
	// The error for an unknown key names them too.
	_, err = LoadPolicy(writePolicyFile(t, "no_such_key = 1\n"))
	for _, k := range keys {
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("the unknown-key error does not name %q: %v", k, err)
		}
	}
}

// docs/decision.md's table has exactly the rows of decisionTable, in order.
func TestDecisionDocListsEveryRow(t *testing.T) {
	doc, err := os.ReadFile("../docs/decision.md")
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| [0-9]+ \\| `([a-z -]+)` \\|").FindAllSubmatch(doc, -1) {
		documented = append(documented, string(m[1]))
	}
	var rows []string
	for _, r := range decisionTable {
		rows = append(rows, r.source)
	}
	if !slices.Equal(documented, rows) {
		t.Errorf("docs/decision.md's table has %q\ndecisionTable has %q", documented, rows)
	}
}

func writePolicyFile(t *testing.T, body string) string {
	t.Helper()
	path := t.TempDir() + "/config.toml"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
