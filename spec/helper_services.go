package spec

import (
	"fmt"
	"strings"
)

// HelperServices says what the policy asks a create helper to serve
// beside creates: the denial collector, the metrics endpoint and
// recordings, with the settings they start with. Empty means creates
// only, which the lean `sysgate-helper` serves; anything else needs
// `sysgate helper`. A helper compares it at each policy reload: these
// services start with the process, so a change takes a restart.
func (p Policy) HelperServices() string {
	var s []string
	if p.Denials {
		s = append(s, fmt.Sprintf("denials = true (denial_log %q, denial_log_max_bytes %d, decision_log %q)", p.DenialLog, p.DenialLogMaxBytes, p.DecisionLog))
	}
	if p.MetricsListen != "" {
		s = append(s, fmt.Sprintf("metrics_listen = %q", p.MetricsListen))
	}
	if len(p.RecordNamespaces) > 0 {
		s = append(s, fmt.Sprintf("record_namespaces = %q (record_dir %q, record_socket %q)", p.RecordNamespaces, p.RecordDir, p.RecordSocket))
	}
	return strings.Join(s, ", ")
}
