package refusal

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestOf(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		reason Reason
		ok     bool
	}{
		{"nil", nil, "", false},
		{"plain fault", fs.ErrPermission, "", false},
		{"refusal", Errorf(Policy, "no"), Policy, true},
		{"wrapped refusal", fmt.Errorf("container c1: %w", New(BadInput, errors.New("bad"))), BadInput, true},
		{"outermost decides", New(InvalidProfile, fmt.Errorf("x: %w", New(EscapingPath, errors.New("y")))), InvalidProfile, true},
		{"fault wrapping nothing refused", fmt.Errorf("writing: %w", fs.ErrClosed), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reason, ok := Of(tc.err)
			if reason != tc.reason || ok != tc.ok {
				t.Errorf("Of(%v) = %q, %v; want %q, %v", tc.err, reason, ok, tc.reason, tc.ok)
			}
		})
	}
}

// A refusal keeps the message and the cause of what it marks.
func TestErrorKeepsItsCause(t *testing.T) {
	err := New(BadInput, fmt.Errorf("open x: %w", fs.ErrNotExist))
	if err.Error() != "open x: file does not exist" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%v loses its message or cause", err)
	}
	if New(Policy, nil) != nil {
		t.Error("New(reason, nil) is not nil")
	}
}
