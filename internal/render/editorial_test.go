package render

import (
	"slices"
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
		// Bytes that are not UTF-8 before a script once made the search for it panic.
		{"invalid UTF-8", strings.Repeat("\xff", 10) + "<script>alert(1)</script> hi", []string{"<script", "alert"}},
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

// TestIntroLinksAndText: an unsafe link keeps its text and loses the link, mailto: links
// stay, hidden elements disappear with their content, and the plain-text part gets the
// note as text (no Markdown, no tags), links as "text (address)".
func TestIntroLinksAndText(t *testing.T) {
	r := mustNew(t, technerdo(), "")
	tests := []struct {
		name, intro   string
		html, notHTML []string
		text, notText []string
	}{
		{
			name:    "javascript link keeps its text",
			intro:   "Please [click here](javascript:alert(1)) now.",
			html:    []string{"Please click here now."},
			notHTML: []string{`href=""`, "javascript:"},
			text:    []string{"Please click here now."},
			notText: []string{"javascript:", "[click here]"},
		},
		{
			name:    "mailto stays a link",
			intro:   "Write to [the editors](mailto:editors@technerdo.com) or <tips@technerdo.com>.",
			html:    []string{`href="mailto:editors@technerdo.com"`, `href="mailto:tips@technerdo.com"`},
			text:    []string{"the editors (mailto:editors@technerdo.com)", "tips@technerdo.com."},
			notText: []string{"(mailto:tips@technerdo.com)"},
		},
		{
			name:    "script and its text are gone",
			intro:   "Hi <script>alert('x')</script>there <STYLE>p{}</STYLE>friend <iframe src=x>inside</iframe>",
			html:    []string{"Hi there friend"},
			notHTML: []string{"alert", "p{}", "inside"},
			text:    []string{"Hi there friend"},
			notText: []string{"<script", "alert", "inside"},
		},
		{
			name:    "markdown becomes text",
			intro:   "# Note\n\nSome **bold** and _em_, a [link](https://technerdo.com/a).\n\n- one\n- two",
			text:    []string{"Note\n\nSome bold and em, a link (https://technerdo.com/a).\n\n- one\n\n- two"},
			notText: []string{"**", "_em_", "](", "<"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issue := goldenIssue()
			issue.Intro = tt.intro
			e := mustIssue(t, r, issue)
			body := e.HTML[strings.Index(e.HTML, "<body"):]
			for _, s := range tt.html {
				if !strings.Contains(body, s) {
					t.Errorf("HTML lacks %q", s)
				}
			}
			for _, s := range tt.notHTML {
				if strings.Contains(body, s) {
					t.Errorf("HTML contains %q", s)
				}
			}
			for _, s := range tt.text {
				if !strings.Contains(e.Text, s) {
					t.Errorf("text lacks %q:\n%s", s, e.Text)
				}
			}
			for _, s := range tt.notText {
				if strings.Contains(e.Text, s) {
					t.Errorf("text contains %q", s)
				}
			}
		})
	}
}

// TestSections: sections keep the order of first appearance and the first spelling, match
// names ignoring case, and put the stories without one last.
func TestSections(t *testing.T) {
	in := []TemplateStory{{Title: "a", Section: "News"}, {Title: "b"}, {Title: "c", Section: "news"}, {Title: "d", Section: "Deals"}, {Title: "e"}}
	var got []string
	for _, s := range sections(in) {
		titles := ""
		for _, st := range s.Stories {
			titles += st.Title
		}
		got = append(got, s.Name+":"+titles)
	}
	if want := []string{"News:ac", "Deals:d", "More this week:be"}; !slices.Equal(got, want) {
		t.Errorf("sections = %q, want %q", got, want)
	}
	if got := sections([]TemplateStory{{Title: "a", Section: "News"}}); len(got) != 1 || got[0].Name != "News" {
		t.Errorf("one section: %+v", got)
	}
}
