package stats

import "testing"

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 3}} {
		in := append([]float64(nil), tc.in...)
		if got := Median(in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Errorf("Median reordered its input: %v", in)
			}
		}
	}
}

func TestPercentile(t *testing.T) {
	for _, c := range []struct {
		v    []float64
		p    float64
		want float64
	}{
		{nil, 99, 0},
		{[]float64{3}, 99, 3},
		{[]float64{5, 1, 4, 2, 3}, 50, 3},
		{[]float64{5, 1, 4, 2, 3}, 99, 5},
		{[]float64{5, 1, 4, 2, 3}, 20, 1},
		{[]float64{5, 1, 4, 2, 3}, 21, 2},
	} {
		if got := Percentile(c.v, c.p); got != c.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", c.v, c.p, got, c.want)
		}
	}
}
