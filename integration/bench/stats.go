package main

import (
	"fmt"
	"strings"
)

// pairedRatios divides each repetition's value by the baseline's from the
// same repetition.
func pairedRatios(values, baseline []float64) []float64 {
	out := make([]float64, len(values))
	for i := range values {
		out[i] = values[i] / baseline[i]
	}
	return out
}

// table renders a markdown table.
func table(header []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for range header {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	return b.String()
}

func f2(v float64) string { return fmt.Sprintf("%.2f", v) }
func f1(v float64) string { return fmt.Sprintf("%.1f", v) }
