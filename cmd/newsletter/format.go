package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// formatCounts prints a status→count map in a stable order: "sent 5, bounced 1".
func formatCounts[K ~string](m map[K]int) string {
	keys := make([]string, 0, len(m))
	for k, n := range m {
		if n > 0 {
			keys = append(keys, string(k))
		}
	}
	if len(keys) == 0 {
		return "empty"
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[K(k)])
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
