package newsletter

import (
	"strings"
	"testing"
)

func TestCheckSubject(t *testing.T) {
	for _, tc := range []struct {
		name, subject, wantErr string
	}{
		{"plain", "The Weekly: a story", ""},
		{"empty returns to the default", "", ""},
		{"longest allowed", strings.Repeat("é", SubjectMax), ""},
		{"too long", strings.Repeat("a", SubjectMax+1), "at most 200 characters"},
		{"a new line would start a header", "Hello\r\nBcc: x@example.org", "control characters"},
		{"tab", "a\tb", "control characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckSubject(tc.subject)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("CheckSubject = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
