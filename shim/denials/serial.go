package denials

import (
	"bytes"
	"strconv"
)

// serialTracker counts audit serials skipped between the records received.
// Every audit record of every type passes the collector (the read-log group
// and the kernel log both carry them all), and each event takes the next
// serial, so a serial never seen is a record lost on the way. Records of
// concurrent tasks may arrive slightly out of order: a serial counted
// missing that turns up later is taken back, within a window.
type serialTracker struct {
	last    uint64
	started bool
	missing map[uint64]struct{}
	gaps    uint64
}

// missingWindow bounds how far back a late serial is taken back; older
// missing serials are final.
const missingWindow = 1 << 16

func (t *serialTracker) see(serial uint64) {
	switch {
	case !t.started:
		t.started, t.last = true, serial
		t.missing = map[uint64]struct{}{}
	case serial == t.last:
	case serial > t.last:
		gap := serial - t.last - 1
		if gap > 0 && gap < missingWindow {
			for s := t.last + 1; s < serial; s++ {
				t.missing[s] = struct{}{}
			}
		}
		t.gaps += gap
		t.last = serial
		if len(t.missing) > missingWindow {
			for s := range t.missing {
				if s+missingWindow < t.last {
					delete(t.missing, s)
				}
			}
		}
	default:
		if _, ok := t.missing[serial]; ok {
			delete(t.missing, serial)
			t.gaps--
		}
	}
}

// stampSerial finds the serial in "audit(TIME:SERIAL):" anywhere in text.
func stampSerial(text []byte) (uint64, bool) {
	i := bytes.Index(text, []byte("audit("))
	if i < 0 {
		return 0, false
	}
	rest := text[i+len("audit("):]
	end := bytes.IndexByte(rest, ')')
	if end < 0 {
		return 0, false
	}
	colon := bytes.IndexByte(rest[:end], ':')
	if colon < 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(rest[colon+1:end]), 10, 64)
	return n, err == nil
}
