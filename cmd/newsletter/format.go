package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// formatCounts prints a status→count map in a stable order: "bounced 1, sent 5".
func formatCounts[K ~string](m map[K]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	if len(parts) == 0 {
		return "empty"
	}
	return strings.Join(parts, ", ")
}

// either prints yes when ok, else no, with the same arguments.
func either(w io.Writer, ok bool, yes, no string, args ...any) {
	if !ok {
		yes = no
	}
	fmt.Fprintf(w, yes, args...)
}
