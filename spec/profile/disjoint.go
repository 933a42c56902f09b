package profile

import (
	"math"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// disjoint reports whether no call can match both rules' conditions: on
// some argument both constrain, the values each allows do not meet. Only
// then may two rules for one syscall carry different actions: libseccomp
// compiles overlapping ones, but a call in the overlap gets one of the two
// actions whatever the profile's order (a deny can silently become an
// allow), so the validator refuses them. Conditions it cannot reason about
// (SCMP_CMP_MASKED_EQ, an index given twice) count as overlapping.
func disjoint(a, b []specs.LinuxSeccompArg) bool {
	ra, okA := ranges(a)
	rb, okB := ranges(b)
	if !okA || !okB {
		return false
	}
	for index, x := range ra {
		if y, ok := rb[index]; ok && !x.meets(y) {
			return true
		}
	}
	return false
}

// valueSet is the values one argument condition allows: an interval, or
// everything but one value.
type valueSet struct {
	lo, hi uint64 // inclusive
	not    bool   // every value but lo (== hi)
}

func (x valueSet) meets(y valueSet) bool {
	switch {
	case x.not && y.not:
		return true
	case x.not:
		return !(y.lo == y.hi && y.lo == x.lo)
	case y.not:
		return !(x.lo == x.hi && x.lo == y.lo)
	}
	return max(x.lo, y.lo) <= min(x.hi, y.hi)
}

// ranges is each argument's allowed values, when every condition is one
// it understands and names its argument once.
func ranges(args []specs.LinuxSeccompArg) (map[uint]valueSet, bool) {
	out := map[uint]valueSet{}
	for _, a := range args {
		if _, dup := out[a.Index]; dup {
			return nil, false
		}
		v := a.Value
		var s valueSet
		switch a.Op {
		case specs.OpEqualTo:
			s = valueSet{lo: v, hi: v}
		case specs.OpNotEqual:
			s = valueSet{lo: v, hi: v, not: true}
		case specs.OpLessThan:
			if v == 0 {
				return nil, false // matches nothing: leave it to overlap
			}
			s = valueSet{lo: 0, hi: v - 1}
		case specs.OpLessEqual:
			s = valueSet{lo: 0, hi: v}
		case specs.OpGreaterThan:
			if v == math.MaxUint64 {
				return nil, false
			}
			s = valueSet{lo: v + 1, hi: math.MaxUint64}
		case specs.OpGreaterEqual:
			s = valueSet{lo: v, hi: math.MaxUint64}
		default:
			return nil, false
		}
		out[a.Index] = s
	}
	return out, true
}
