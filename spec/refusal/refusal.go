package refusal

import (
	"errors"
	"fmt"
)

// Reason is why a create was refused. Its values are stable: they name
// refusals in logs and metrics.
type Reason string

const (
	// BadInput: the bundle, an annotation, a profile reference or a
	// command line is malformed or contradicts itself.
	BadInput Reason = "bad-input"
	// Policy: the node policy forbids what was asked (an unconfined
	// container under unconfined = "deny", a restore).
	Policy Reason = "policy"
	// InvalidProfile: the profile does not parse, validate or compile.
	InvalidProfile Reason = "invalid-profile"
	// EscapingPath: a path leads out of the directory it must stay in,
	// or is a link or special file where a regular file is required.
	EscapingPath Reason = "escaping-path"
)

// Reasons lists every Reason, for documentation and metrics.
var Reasons = []Reason{BadInput, Policy, InvalidProfile, EscapingPath}

// Error is a refusal: Err says what is wrong and what to do.
type Error struct {
	Reason Reason
	Err    error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New marks err as a refusal for reason; nil stays nil.
func New(reason Reason, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Reason: reason, Err: err}
}

// Errorf is New(reason, fmt.Errorf(format, args...)).
func Errorf(reason Reason, format string, args ...any) error {
	return &Error{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// Of reports whether err is a refusal, and why. The outermost refusal in
// the chain decides: a step that refuses for its own reason while wrapping
// another's says best what the caller must fix.
func Of(err error) (Reason, bool) {
	var r *Error
	if errors.As(err, &r) {
		return r.Reason, true
	}
	return "", false
}
