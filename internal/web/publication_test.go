package web

import (
	"testing"

	"newsletter/internal/newsletter"
)

func TestPageFor(t *testing.T) {
	pub := newsletter.Publication{Name: "The Weekly", WebsiteURL: "https://example.org", AccentColor: "#c8102e",
		Language: "tr", PostalAddress: "1 Main St", Tagline: "t"}
	want := Page{Publication: "The Weekly", WebsiteURL: "https://example.org", Accent: "#c8102e", Lang: "tr"}
	if got := PageFor(pub); got != want {
		t.Fatalf("PageFor = %+v, want %+v", got, want)
	}
}
