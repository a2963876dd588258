package render

import (
	"strings"
	"testing"
)

func TestPublicHTML(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"link and address", `<a href="` + PlaceholderUnsubscribeURL + `">Unsubscribe</a> sent to ` + PlaceholderEmail,
			`<a href="#">Unsubscribe</a> sent to a subscriber`},
		{"no placeholders", "<p>Hello</p>", "<p>Hello</p>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PublicHTML(tt.in)
			if got != tt.want {
				t.Errorf("PublicHTML = %q, want %q", got, tt.want)
			}
			if strings.Contains(got, "__NL_") {
				t.Errorf("a placeholder is left: %q", got)
			}
		})
	}
}
