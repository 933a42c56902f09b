package denials

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// AuditSeccomp is the audit record type of a seccomp outcome
// (AUDIT_SECCOMP).
const AuditSeccomp = 1326

// Record is one seccomp audit record, as the kernel wrote it.
type Record struct {
	Time   float64 // seconds since the epoch, from audit(TIME:SERIAL)
	Serial uint64  // the audit event serial; gaps mean records lost
	Pid    int     // in the initial pid namespace
	Comm   string
	Exe    string
	Arch   uint32 // AUDIT_ARCH_*
	Nr     int32  // seccomp_data.nr, with the x32 bit on x32
	Code   uint32 // the filter's return value
	Signal int
}

// maxRecordLen bounds what is parsed: the kernel's records are well under
// it (MAX_AUDIT_MESSAGE_LENGTH is 8970).
const maxRecordLen = 8970

// ParseRecord reads the text of a seccomp record: "audit(T:S): key=value
// ...", with or without the "audit: type=1326 " prefix the kernel log
// puts before it. Every field the collector needs must be there and well
// formed; anything else is an error saying what is wrong, so that a
// garbled record is reported as such and never half-read into a wrong
// attribution.
func ParseRecord(text []byte) (Record, error) {
	var r Record
	if len(text) > maxRecordLen {
		return r, fmt.Errorf("seccomp record of %d bytes is longer than the kernel writes (%d)", len(text), maxRecordLen)
	}
	if i := bytes.Index(text, []byte("type=")); i >= 0 && i < bytes.Index(text, []byte("audit(")) {
		typ, _, _ := bytes.Cut(text[i+len("type="):], []byte(" "))
		if string(typ) != strconv.Itoa(AuditSeccomp) {
			return r, fmt.Errorf("audit record type %q is not a seccomp record (%d)", truncate(typ), AuditSeccomp)
		}
	}
	start := bytes.Index(text, []byte("audit("))
	if start < 0 {
		return r, errors.New("seccomp record without its audit(TIME:SERIAL) stamp")
	}
	rest := text[start+len("audit("):]
	stamp, rest, ok := bytes.Cut(rest, []byte("):"))
	if !ok {
		return r, fmt.Errorf("seccomp record stamp %q is not closed by \"):\"", truncate(rest))
	}
	ts, serial, ok := bytes.Cut(stamp, []byte(":"))
	if !ok {
		return r, fmt.Errorf("seccomp record stamp %q is not TIME:SERIAL", truncate(stamp))
	}
	var err error
	if r.Time, err = strconv.ParseFloat(string(ts), 64); err != nil || r.Time < 0 {
		return r, fmt.Errorf("seccomp record time %q is not a number of seconds", truncate(ts))
	}
	if r.Serial, err = strconv.ParseUint(string(serial), 10, 64); err != nil {
		return r, fmt.Errorf("seccomp record serial %q is not a number", truncate(serial))
	}
	fields, err := splitFields(rest)
	if err != nil {
		return r, err
	}
	need := func(key string) (string, error) {
		v, ok := fields[key]
		if !ok {
			return "", fmt.Errorf("seccomp record %d has no %s= field", r.Serial, key)
		}
		return v, nil
	}
	num := func(key string, base, bits int) (uint64, error) {
		v, err := need(key)
		if err != nil {
			return 0, err
		}
		v = strings.TrimPrefix(v, "0x")
		n, err := strconv.ParseUint(v, base, bits)
		if err != nil {
			return 0, fmt.Errorf("seccomp record %d: %s=%q is not a number", r.Serial, key, truncate([]byte(v)))
		}
		return n, nil
	}
	pid, err := num("pid", 10, 31)
	if err != nil {
		return r, err
	}
	arch, err := num("arch", 16, 32)
	if err != nil {
		return r, err
	}
	nr, err := num("syscall", 10, 31)
	if err != nil {
		return r, err
	}
	code, err := num("code", 16, 32)
	if err != nil {
		return r, err
	}
	r.Pid, r.Arch, r.Nr, r.Code = int(pid), uint32(arch), int32(nr), uint32(code)
	if sig, err := num("sig", 10, 16); err == nil {
		r.Signal = int(sig)
	}
	if r.Comm, err = untrusted(fields["comm"]); err != nil {
		return r, fmt.Errorf("seccomp record %d: comm: %w", r.Serial, err)
	}
	if r.Exe, err = untrusted(fields["exe"]); err != nil {
		return r, fmt.Errorf("seccomp record %d: exe: %w", r.Serial, err)
	}
	return r, nil
}

// splitFields splits key=value pairs; a value is a bare word or a
// double-quoted string without escapes (audit hex-encodes any string with
// a quote, space or control character). A key given twice is an error:
// a process cannot make the kernel repeat one, so a repeat is a forgery
// or a garbled record.
func splitFields(b []byte) (map[string]string, error) {
	out := map[string]string{}
	for {
		b = bytes.TrimLeft(b, " ")
		if len(b) == 0 {
			return out, nil
		}
		eq := bytes.IndexByte(b, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("seccomp record field %q is not key=value", truncate(b))
		}
		key := string(b[:eq])
		if strings.ContainsAny(key, " \"") {
			return nil, fmt.Errorf("seccomp record key %q is malformed", truncate(b[:eq]))
		}
		b = b[eq+1:]
		var value string
		if len(b) > 0 && b[0] == '"' {
			end := bytes.IndexByte(b[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("seccomp record field %s: the quoted value is not closed", key)
			}
			value, b = string(b[:end+2]), b[end+2:]
		} else {
			word, rest, _ := bytes.Cut(b, []byte(" "))
			value, b = string(word), rest
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("seccomp record field %s appears twice", key)
		}
		out[key] = value
	}
}

// untrusted decodes a string field the process controls (comm, exe):
// "quoted" as is, hex when the kernel encoded it, "(null)" or absent as
// empty.
func untrusted(v string) (string, error) {
	switch {
	case v == "" || v == "(null)":
		return "", nil
	case len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"':
		return v[1 : len(v)-1], nil
	}
	b, err := hex.DecodeString(v)
	if err != nil {
		return "", fmt.Errorf("%q is neither quoted nor hex", truncate([]byte(v)))
	}
	return string(b), nil
}

// truncate keeps error messages about hostile input short.
func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}
