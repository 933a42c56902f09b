// Package stats holds the small statistics the benchmarks print (test-only,
// like the rest of integration/).
package stats

import "slices"

// Median is the middle value of v (the upper one of an even count); 0 for
// none. v is not changed.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
