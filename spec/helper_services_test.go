package spec

import (
	"strings"
	"testing"
)

func TestHelperServices(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*Policy)
		want []string // substrings; none means creates only
	}{
		{"default policy", func(*Policy) {}, nil},
		{"log_denials alone is the kernel's, not the helper's", func(p *Policy) { p.LogDenials = true }, nil},
		{"denials", func(p *Policy) { p.Denials = true }, []string{"denials = true", `denial_log "/var/log/sysgate/denials.jsonl"`}},
		{"metrics", func(p *Policy) { p.MetricsListen = "127.0.0.1:9795" }, []string{`metrics_listen = "127.0.0.1:9795"`}},
		{"recordings", func(p *Policy) { p.RecordNamespaces = []string{"dev"} }, []string{`record_namespaces = ["dev"]`, `record_socket "/run/sysgate/record.sock"`}},
		{"all three", func(p *Policy) {
			p.Denials, p.MetricsListen, p.RecordNamespaces = true, ":9795", []string{"a"}
		}, []string{"denials", "metrics_listen", "record_namespaces"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := DefaultPolicy()
			c.edit(&p)
			got := p.HelperServices()
			if len(c.want) == 0 && got != "" {
				t.Errorf("got %q, want creates only (empty)", got)
			}
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("got %q, want it to contain %q", got, w)
				}
			}
		})
	}
	// A change to any setting a service starts with is a different value,
	// so that a helper restarts for it.
	a, b := DefaultPolicy(), DefaultPolicy()
	a.Denials, b.Denials = true, true
	b.DenialLog = "/elsewhere.jsonl"
	if a.HelperServices() == b.HelperServices() {
		t.Error("a new denial_log reads as no change")
	}
}
