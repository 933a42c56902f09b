package verify

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/conformance/node"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/filter/bpf"
)

// once is a value computed at most once per key, however many containers
// ask: a node runs many containers of few profiles, and threads of one
// container share their filters.
type once[T any] struct {
	mu sync.Mutex
	m  map[string]*onceEntry[T]
}

type onceEntry[T any] struct {
	sync.Once
	v   T
	err error
}

func (o *once[T]) get(key string, compute func() (T, error)) (T, error) {
	o.mu.Lock()
	if o.m == nil {
		o.m = map[string]*onceEntry[T]{}
	}
	e := o.m[key]
	if e == nil {
		e = &onceEntry[T]{}
		o.m[key] = e
	}
	o.mu.Unlock()
	e.Do(func() { e.v, e.err = compute() })
	return e.v, e.err
}

// Names of the programs a decided profile may be loaded as.
const (
	expectedSysgate  = "the decided profile: sysgate's program, or the runtime's own compile of it with an ENOSYS stub (runc)"
	expectedHandoff  = "sysgate's program, handed to crun"
	expectedNoStub   = "the decided profile compiled by the runtime without an ENOSYS stub (crun)"
	expectedUnconfin = "unconfined: no filter"
)

// expected compiles the decided profile, afresh, into the programs it may
// legitimately be loaded as. crun handed sysgate's program loads exactly
// that; a runtime that compiled the JSON itself loads what runc's compile
// means (sysgate's program, stub included) or crun's (the same without the
// stub), and which runtime it was the records do not say.
func (inv *inventory) expected(p *specs.LinuxSeccomp, digest string, handoff bool) ([]Expected, error) {
	if p == nil {
		return []Expected{{Name: expectedUnconfin}}, nil
	}
	prog, err := inv.programs.get(digest, func() (*filter.Program, error) {
		return filter.Compile(p, filter.Options{})
	})
	if err != nil {
		return nil, fmt.Errorf("compiling the decided profile (digest %s) again: %w", digest, err)
	}
	if handoff {
		return []Expected{{expectedHandoff, prog.Instructions}}, nil
	}
	// A runtime that compiled the JSON itself, with its own libseccomp,
	// left out the rules for syscalls newer than that library, which
	// sysgate would filter by number (sysgate refuses the create where
	// that leaves a syscall more open than written: spec's
	// checkRuntimeEnforces).
	own, err := inv.programs.get(digest+" libseccomp only", func() (*filter.Program, error) {
		return filter.Compile(p, filter.Options{LibseccompOnly: true})
	})
	if err != nil {
		return nil, fmt.Errorf("compiling the decided profile (digest %s) as a runtime does: %w", digest, err)
	}
	out := []Expected{{expectedSysgate, own.Instructions}}
	if own.StubLength > 0 {
		out = append(out, Expected{expectedNoStub, own.Instructions[own.StubLength:]})
	}
	return out, nil
}

// threadCheck is the outcome for one thread.
type threadCheck struct {
	result  ThreadResult
	skipped bool // the thread exited before it could be read
	equal   bool
	matched string // the expected program it equals
}

// checkThread reads one thread's filters and compares them with the
// decided programs.
func (inv *inventory) checkThread(t node.Task, isInit bool, expected []Expected, p *specs.LinuxSeccomp, expKey string) threadCheck {
	tc := threadCheck{result: ThreadResult{TID: t.TID, PID: t.TGID}}
	var installed [][]bpf.Instruction
	switch t.SeccompMode {
	case node.ModeDisabled:
	case node.ModeFilter:
		filters, err := node.ReadFilters(t.TID)
		if errors.Is(err, node.ErrGone) && !isInit {
			tc.skipped = true
			return tc
		}
		if err != nil {
			tc.result.Error = err.Error()
			return tc
		}
		installed = filters
	case node.ModeStrict:
		tc.result.Comparison = &Comparison{Findings: []string{"the thread is in seccomp strict mode (read, write, exit and sigreturn only), not the decided filter"}}
		return tc
	default:
		tc.result.Error = fmt.Sprintf("the kernel shows no seccomp mode for thread %d (built without CONFIG_SECCOMP?)", t.TID)
		return tc
	}
	key := expKey + "|" + chainKey(installed)
	c, err := inv.comparisons.get(key, func() (Comparison, error) {
		return Compare(installed, expected, p)
	})
	if err != nil {
		tc.result.Error = fmt.Sprintf("comparing the filters of thread %d: %v", t.TID, err)
		return tc
	}
	if c.Equal {
		tc.equal, tc.matched = true, c.Matched
		return tc
	}
	tc.result.Comparison = &c
	return tc
}

// chainKey names a chain of filters by content.
func chainKey(filters [][]bpf.Instruction) string {
	h := sha256.New()
	for _, f := range filters {
		binary.Write(h, binary.LittleEndian, uint32(len(f)))
		h.Write(bpf.Encode(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}
