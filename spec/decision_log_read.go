package spec

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// ReadDecisionLog returns the records of the decision log that keep
// accepts, oldest first: those of the rotated file (<decision_log>.1)
// before those of the current one. keep sees each line's container id
// (read without decoding the line, which is what makes a 64 MiB log cheap
// to scan) and the raw line; only kept lines are decoded.
//
// The log is not signed: it is trusted as far as its writer is, so a log
// (or a directory above it) that anyone but root can change is refused,
// as the policy file is (CheckTrustedPath). A missing file is no error.
// A line that is not a record is skipped: a torn last line after a crash
// must not hide the others.
func ReadDecisionLog(path string, keep func(id string, line []byte) bool) ([]DecisionRecord, error) {
	if err := CheckTrustedPath(path, "decision_log"); err != nil {
		return nil, err
	}
	var out []DecisionRecord
	for _, p := range []string{path + ".1", path} {
		records, err := readDecisionFile(p, keep)
		if err != nil {
			return nil, err
		}
		out = append(out, records...)
	}
	return out, nil
}

// maxDecisionLine bounds one line; records are a few hundred bytes.
const maxDecisionLine = 1 << 20

func readDecisionFile(path string, keep func(id string, line []byte) bool) ([]DecisionRecord, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("decision_log %s: %w", path, err)
	}
	defer f.Close()
	var out []DecisionRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxDecisionLine)
	for sc.Scan() {
		line := sc.Bytes()
		if !keep(lineContainerID(line), line) {
			continue
		}
		var r DecisionRecord
		if json.Unmarshal(line, &r) == nil {
			out = append(out, r)
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("decision_log %s: %w", path, err)
	}
	return out, nil
}

// idPrefix is how every record starts its container: LogDecision encodes
// the time first and the container's id first within it.
var idPrefix = []byte(`"container":{"id":"`)

// lineContainerID is the container id of a record line, without decoding
// it; "" when the line has none or spells it with escapes (then keep must
// decide from the line itself).
func lineContainerID(line []byte) string {
	i := bytes.Index(line, idPrefix)
	if i < 0 {
		return ""
	}
	rest := line[i+len(idPrefix):]
	end := bytes.IndexByte(rest, '"')
	if end < 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
		return ""
	}
	return string(rest[:end])
}

// Logged is when the record was written; the zero time when unreadable.
func (r DecisionRecord) Logged() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, r.Time)
	return t
}
