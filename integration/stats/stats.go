// Package stats holds the small statistics the benchmarks print (test-only,
// like the rest of integration/).
package stats

import (
	"math"
	"slices"
)

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

// Percentile is the nearest-rank p-th percentile of v (0 < p <= 100): the
// smallest value with at least p% of v at or below it; 0 for none. With
// few samples the 99th is the largest, which is what it should say.
func Percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}
