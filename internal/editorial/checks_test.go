package editorial

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestCheckLinks(t *testing.T) {
	tests := []struct {
		name, href string
		ok         bool
	}{
		{"https", "https://technerdo.com/a", true},
		{"mailto", "mailto:editors@technerdo.com", true},
		{"mailto with subject", "MAILTO:editors@technerdo.com?subject=Hi%20there", true},
		{"mailto to two", "mailto:a@technerdo.com,b@technerdo.com", true},
		{"mailto without address", "mailto:", false},
		{"mailto garbage", "mailto:not an address", false},
		{"empty", "", false},
		{"relative", "/issues", false},
		{"javascript", "javascript:alert(1)", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := html.Parse(strings.NewReader(`<p><a href="` + tc.href + `">x</a></p>`))
			if err != nil {
				t.Fatal(err)
			}
			if c := checkLinks(doc); c.OK != tc.ok {
				t.Errorf("checkLinks(%q).OK = %v, want %v (%s)", tc.href, c.OK, tc.ok, c.Detail)
			}
		})
	}
}
