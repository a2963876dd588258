package dkim

import (
	"fmt"
	"strings"
)

// String names the signer's keys, for the tests to see which were loaded.
func (s *Signer) String() string {
	var b strings.Builder
	b.WriteString("DKIM")
	for i, k := range s.keys {
		if i > 0 {
			b.WriteString(" and")
		}
		fmt.Fprintf(&b, " %s d=%s s=%s", strings.TrimSuffix(k.algo, "-sha256"), s.domain, k.Selector)
	}
	return b.String()
}
