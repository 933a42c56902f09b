package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README's usage block is what each command's --help says, so that
// neither drifts from the other (spacing aside).
func TestReadmeUsageMatchesHelp(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## The `sysgate` command\n\n```\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no usage block under \"The `sysgate` command\"")
	}
	squash := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	lines := strings.Split(strings.TrimSpace(string(m[1])), "\n")
	if len(lines) < 9 {
		t.Fatalf("the usage block has %d lines", len(lines))
	}
	documented := map[string]bool{}
	for _, line := range lines {
		args := strings.Fields(line)[1:] // after "sysgate"
		cmd := args[:1]
		if _, two := commands[strings.Join(args[:min(2, len(args))], " ")]; two && len(args) >= 2 {
			cmd = args[:2] // profile validate, record stop
		}
		documented[strings.Join(cmd, " ")] = true
		_, stdout, stderr := runCLI(append(cmd, "--help")...)
		help := stdout + stderr
		first, _, _ := strings.Cut(help, "\n")
		if got, want := squash(strings.TrimPrefix(first, "Usage: ")), squash(line); got != want {
			t.Errorf("README: %s\n--help: %s", want, got)
		}
	}
	for name := range commands {
		if !documented[name] {
			t.Errorf("sysgate %s is not in the README's usage block", name)
		}
	}
}
