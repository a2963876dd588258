package newsletter

import "testing"

func TestUnsubscribeLinks(t *testing.T) {
	for _, tc := range []struct {
		name, base, token, want string
	}{
		{"plain base", "https://news.example.org", "abc.def", "https://news.example.org/unsubscribe/abc.def"},
		{"trailing slash", "https://news.example.org/", "abc", "https://news.example.org/unsubscribe/abc"},
		{"under a path", "https://example.org/weekly", "t", "https://example.org/weekly/unsubscribe/t"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := UnsubscribeURL(tc.base, tc.token)
			if got != tc.want {
				t.Fatalf("UnsubscribeURL = %q, want %q", got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name, path, want string
		ok               bool
	}{
		{"our path", "/unsubscribe/abc.def", "abc.def", true},
		{"under a prefix", "/weekly/unsubscribe/abc", "abc", true},
		{"no token", "/unsubscribe/", "", false},
		{"deeper path", "/unsubscribe/abc/x", "", false},
		{"another path", "/confirm/abc", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := UnsubscribeToken(tc.path)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("UnsubscribeToken(%q) = %q, %v; want %q, %v", tc.path, got, ok, tc.want, tc.ok)
			}
		})
	}
}
