package main

import (
	"slices"
	"testing"
)

func TestParseShapes(t *testing.T) {
	tests := []struct {
		name, stories, dkim string
		want                []shape
		wantErr             bool
	}{
		{"defaults", "0", "none", []shape{{0, "none"}}, false},
		{"crossed", "0, 27", "none,rsa", []shape{{0, "none"}, {0, "rsa"}, {27, "none"}, {27, "rsa"}}, false},
		{"both keys", "5", "both", []shape{{5, "both"}}, false},
		{"bad kind", "0", "dsa", nil, true},
		{"bad stories", "many", "none", nil, true},
		{"negative stories", "-1", "none", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseShapes(tc.stories, tc.dkim)
			if (err != nil) != tc.wantErr || !slices.Equal(got, tc.want) {
				t.Fatalf("parseShapes(%q, %q) = %v, %v; want %v (error %v)", tc.stories, tc.dkim, got, err, tc.want, tc.wantErr)
			}
		})
	}
}
