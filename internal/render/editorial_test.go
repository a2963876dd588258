package render

import (
	"strings"
	"testing"
)

// TestGoldenEdited renders the golden week as an editor shaped it: a Markdown intro, stories
// grouped by section and a "View in browser" link to the archive.
func TestGoldenEdited(t *testing.T) {
	pub := technerdo()
	pub.ArchiveURL = "https://news.technerdo.com/issues/"
	r := mustNew(t, pub, "")
	issue := goldenIssue()
	issue.Intro = "Good morning. This week **Microsoft and OpenAI** split, and [our review](https://technerdo.com/reviews) is up.\n\nSee you next Monday."
	issue.GroupBySection = true
	e := mustIssue(t, r, issue)
	if len(e.Warnings) > 0 {
		t.Errorf("warnings: %q", e.Warnings)
	}
	for _, g := range []struct{ file, got string }{
		{"digest-edited.golden.html", e.HTML},
		{"digest-edited.golden.txt", e.Text},
	} {
		t.Run(g.file, func(t *testing.T) { checkGolden(t, g.file, g.got) })
	}
	for _, want := range []string{`href="https://news.technerdo.com/issues/2026-W19"`, "<strong>Microsoft and OpenAI</strong>"} {
		if !strings.Contains(e.HTML, want) {
			t.Errorf("HTML lacks %s", want)
		}
	}
	if !strings.Contains(e.Text, "View in browser: https://news.technerdo.com/issues/2026-W19") {
		t.Errorf("text lacks the view-in-browser line:\n%s", e.Text)
	}
}

// TestIntroIsSanitised feeds hostile Markdown to the intro.
func TestIntroIsSanitised(t *testing.T) {
	r := mustNew(t, technerdo(), "")
	tests := []struct {
		name, intro string
		never       []string
	}{
		{"raw html", "Hi <script>alert(1)</script><img src=x onerror=alert(1)>", []string{"<script", "onerror"}},
		{"javascript link", "[click](javascript:alert(1))", []string{"javascript:"}},
		{"iframe", "<iframe src=https://evil.example></iframe>", []string{"<iframe"}},
		{"placeholder", "Your address: __NL_RECIPIENT_EMAIL__", []string{PlaceholderEmail}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issue := goldenIssue()
			issue.Intro = tt.intro
			e := mustIssue(t, r, issue)
			body := e.HTML[strings.Index(e.HTML, "<body"):]
			for _, bad := range tt.never {
				if strings.Contains(body, bad) && !(bad == PlaceholderEmail && strings.Count(body, bad) == 1) {
					t.Errorf("HTML body contains %q", bad)
				}
			}
		})
	}
}
