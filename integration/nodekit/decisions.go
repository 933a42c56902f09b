package nodekit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/sysgate/sysgate/spec"
)

// ReadDecisions reads a policy's decision_log, keyed by container id; the
// last record wins (an idempotent second create records again). A missing
// log is empty.
func ReadDecisions(path string) (map[string]spec.DecisionRecord, error) {
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	out := map[string]spec.DecisionRecord{}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var r spec.DecisionRecord
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("decision log line %q: %v", line, err)
		}
		out[r.Container.ID] = r
	}
	return out, nil
}
