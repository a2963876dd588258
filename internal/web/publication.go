package web

import "newsletter/internal/newsletter"

// PageFor is the look of the pages of pub: its name, website, accent and language.
func PageFor(pub newsletter.Publication) Page {
	return Page{Publication: pub.Name, WebsiteURL: pub.WebsiteURL, Accent: pub.AccentColor, Lang: pub.Language}
}
