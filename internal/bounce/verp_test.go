package bounce

import "testing"

func TestVERPAddressRoundTrip(t *testing.T) {
	for _, tc := range []struct{ name, bounce, tok, want string }{
		{"plain", "bounces@example.org", "AbC-12_x", "bounces+AbC-12_x@example.org"},
		{"dotted local part", "news.bounces@mail.example.org", "t0k", "news.bounces+t0k@mail.example.org"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := VERPAddress(tc.bounce, tc.tok)
			if got != tc.want {
				t.Fatalf("VERPAddress = %q, want %q", got, tc.want)
			}
			if tok, ok := plusToken(tc.bounce, got); !ok || tok != tc.tok {
				t.Fatalf("Parse's reading of %q gives %q, %v; want %q", got, tok, ok, tc.tok)
			}
		})
	}
}

// TestVERPTokenNone: no token without a bounce address, an address, or a token in it.
func TestVERPTokenNone(t *testing.T) {
	for _, tc := range []struct{ name, bounce, addr string }{
		{"no bounce address", "", "bounces+t0k@example.org"},
		{"no sender", "bounces@example.org", ""},
		{"the bare bounce address", "bounces@example.org", "bounces@example.org"},
		{"another domain", "bounces@example.org", "bounces+t0k@example.net"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := VERPToken(tc.bounce, tc.addr); got != "" {
				t.Fatalf("VERPToken(%q, %q) = %q, want none", tc.bounce, tc.addr, got)
			}
		})
	}
}
