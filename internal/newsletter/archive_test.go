package newsletter

import "testing"

func TestArchiveURL(t *testing.T) {
	for _, base := range []string{"https://news.example.org", "https://news.example.org/"} {
		if got := ArchiveURL(base); got != "https://news.example.org/issues" {
			t.Errorf("ArchiveURL(%q) = %q", base, got)
		}
	}
}
