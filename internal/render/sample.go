package render

import (
	"time"

	"newsletter/internal/newsletter"
)

// sampleIssue is what New renders to check the templates: every field a template may use is set,
// so that a template calling a missing field or a function the wrong way fails at start.
func sampleIssue() newsletter.Issue {
	published := time.Date(2026, time.January, 1, 9, 0, 0, 0, time.UTC)
	story := func(n string) newsletter.Story {
		return newsletter.Story{
			ID:          1,
			GUID:        "https://example.com/stories/" + n,
			URL:         "https://example.com/stories/" + n,
			Title:       "Sample story " + n,
			Summary:     "A short dek for sample story " + n + ", long enough to need wrapping in the plain-text part of the email.",
			ContentHTML: "<p>Body.</p>",
			Author:      "Sample Author",
			Section:     "News",
			Categories:  []string{"News", "Sample"},
			ImageURL:    "https://example.com/images/" + n + ".jpg",
			ImageAlt:    "Sample image " + n,
			ReadMinutes: 4,
			Published:   published,
			FeedURL:     "https://example.com/feed.xml",
		}
	}
	bare := newsletter.Story{URL: "https://example.com/stories/bare", Title: "A story with nothing but a title"}
	return newsletter.Issue{
		ID:          1,
		Week:        newsletter.Week{Year: 2026, Num: 2},
		WindowStart: published.AddDate(0, 0, -7),
		Cutoff:      published,
		Stories:     []newsletter.Story{story("one"), story("two"), bare},
		Status:      newsletter.IssueDraft,
		Intro:       "A *sample* note from the editors, with [a link](https://example.com/).",
		CreatedAt:   published,
	}
}
