package render

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"newsletter/internal/newsletter"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// technerdo is the publication of the golden sample: our first customer.
func technerdo() Publication {
	return Publication{
		Publication: newsletter.Publication{
			Name:          "The Technerdo Weekly",
			Tagline:       "Analysis worth reading, delivered every Monday.",
			WebsiteURL:    "https://technerdo.com",
			PostalAddress: "Technerdo Media\nBüyükdere Cd. 185, Levent\n34394 Istanbul, Türkiye",
		},
		TimeZone: time.FixedZone("TRT", 3*60*60),
	}
}

func mustNew(t testing.TB, pub Publication, overrideDir string) *Renderer {
	t.Helper()
	r, err := New(pub, overrideDir)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func mustIssue(t testing.TB, r *Renderer, issue newsletter.Issue) Email {
	t.Helper()
	e, err := r.Issue(issue)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return e
}

func day(month time.Month, d, hour int) time.Time {
	return time.Date(2026, month, d, hour, 0, 0, 0, time.UTC)
}

// goldenIssue is a realistic week of Technerdo stories with fixed dates: a lead with an image,
// stories with and without images, authors and read times, and an apostrophe to escape.
func goldenIssue() newsletter.Issue {
	stories := []newsletter.Story{
		{
			URL:         "https://technerdo.com/news/microsoft-openai-end-exclusive-cloud-partnership",
			Title:       "Microsoft and OpenAI End Exclusive Cloud Partnership: What Changes Next",
			Summary:     "Microsoft and OpenAI have ended the exclusivity around their revenue-sharing and cloud relationship. The practical result: OpenAI can use more clouds, Amazon can come in, and the AI infrastructure race gets messier.",
			Author:      "Omer YLD",
			Section:     "News",
			Categories:  []string{"News", "AI", "OpenAI", "Microsoft", "AWS"},
			ImageURL:    "https://technerdo.com/images/2026/04/openai-multi-cloud.jpg",
			ImageAlt:    "Cloud computing server infrastructure representing OpenAI using multiple cloud providers",
			ReadMinutes: 5,
			Published:   day(time.April, 28, 9),
		},
		{
			URL:         "https://technerdo.com/news/musk-vs-altman-trial-explained",
			Title:       "Musk vs. Altman Trial Explained: Why OpenAI's Future Is in Court",
			Summary:     "The case over OpenAI's turn from non-profit lab to commercial heavyweight is in front of a jury. What each side has to prove, and what a verdict could change for ChatGPT users.",
			Author:      "Omer YLD",
			Section:     "News",
			Categories:  []string{"News", "AI"},
			ImageURL:    "https://technerdo.com/images/2026/04/musk-altman-gavel.jpg",
			ImageAlt:    "Judge's gavel on a dark background representing the Musk versus Altman OpenAI trial",
			ReadMinutes: 5,
			Published:   day(time.April, 28, 14),
		},
		{
			URL:         "https://technerdo.com/news/openai-launches-gpt-5-5",
			Title:       "OpenAI Launches GPT-5.5: ChatGPT Becomes an Agent, Not a Chatbot",
			Summary:     "The new model plans, browses and finishes multi-step tasks on its own. We tried it on a week of real work to see where the agent pitch holds up and where it still needs a human.",
			Author:      "Omer YLD",
			Section:     "News",
			Categories:  []string{"News", "AI"},
			ImageURL:    "https://technerdo.com/images/2026/04/gpt-5-5-agent.jpg",
			ImageAlt:    "Editorial illustration of a glowing AI agent core with task workflows orbiting around it",
			ReadMinutes: 5,
			Published:   day(time.April, 27, 16),
		},
		{
			URL:         "https://technerdo.com/news/tim-cook-steps-down-john-ternus-apple-ceo",
			Title:       "Tim Cook Is Stepping Down — John Ternus Becomes Apple CEO September 1",
			Summary:     "Apple's hardware chief takes over a company whose next decade depends on AI it does not yet lead. What the handover tells us about the iPhone, the Mac and Apple Intelligence.",
			Author:      "Omer YLD",
			Section:     "News",
			Categories:  []string{"News", "Apple"},
			ImageURL:    "https://technerdo.com/images/2026/04/apple-ceo-handover.jpg",
			ReadMinutes: 5,
			Published:   day(time.April, 27, 8),
		},
		{
			URL:         "https://technerdo.com/guides/run-local-llm-ollama-16gb-laptop",
			Title:       "How to Run a Local LLM With Ollama on a 16 GB Laptop",
			Summary:     "Private, offline and predictable in cost: a step-by-step setup, the models that fit in 16 GB of memory, and the settings that keep your fans quiet.",
			Author:      "Omer YLD",
			Section:     "Guides",
			Categories:  []string{"Guides", "AI Tools"},
			ReadMinutes: 9,
			Published:   day(time.April, 30, 10),
		},
		{
			URL:         "https://technerdo.com/deals/best-tech-deals-this-week",
			Title:       "The Best Tech Deals This Week: Headphones, SSDs and a Rare E-Reader Discount",
			Summary:     "Prices we checked against their 90-day history, so you only see the real drops.",
			Section:     "Deals",
			ReadMinutes: 3,
			Published:   day(time.May, 1, 12),
		},
	}
	return newsletter.Issue{
		ID:          19,
		Week:        newsletter.Week{Year: 2026, Num: 19},
		WindowStart: day(time.April, 27, 0),
		Cutoff:      day(time.May, 4, 0),
		Stories:     stories,
		Status:      newsletter.IssueDraft,
		CreatedAt:   day(time.May, 4, 6),
	}
}

// manyStories is an issue of n stories shaped like the golden ones.
func manyStories(n int) newsletter.Issue {
	issue := goldenIssue()
	base := issue.Stories
	issue.Stories = nil
	for i := range n {
		s := base[i%len(base)]
		s.URL = fmt.Sprintf("%s-%d", s.URL, i)
		issue.Stories = append(issue.Stories, s)
	}
	return issue
}

func TestGolden(t *testing.T) {
	r := mustNew(t, technerdo(), "")
	e := mustIssue(t, r, goldenIssue())
	if len(e.Warnings) > 0 {
		t.Errorf("warnings for the golden issue: %q", e.Warnings)
	}
	t.Logf("golden HTML: %d bytes after inlining; text: %d bytes", len(e.HTML), len(e.Text))
	for _, g := range []struct{ file, got string }{
		{"digest.golden.html", e.HTML},
		{"digest.golden.txt", e.Text},
	} {
		t.Run(g.file, func(t *testing.T) { checkGolden(t, g.file, g.got) })
	}
}

// firstDiff shows the first line where two documents differ.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\nwant %q\n got %q", i+1, w, g)
		}
	}
	return "(identical lines; lengths differ)"
}

func TestIssueIsDeterministic(t *testing.T) {
	first := mustIssue(t, mustNew(t, technerdo(), ""), goldenIssue())
	for range 5 {
		again := mustIssue(t, mustNew(t, technerdo(), ""), goldenIssue())
		if again.HTML != first.HTML || again.Text != first.Text || again.Subject != first.Subject || again.Preheader != first.Preheader {
			t.Fatalf("second rendering differs from the first:\n%s\n%s", firstDiff(first.HTML, again.HTML), firstDiff(first.Text, again.Text))
		}
	}
}

func TestHTMLStructure(t *testing.T) {
	e := mustIssue(t, mustNew(t, technerdo(), ""), goldenIssue())
	for _, want := range []string{
		`<html lang="en"`,
		`<meta name="color-scheme" content="light dark"/>`,
		`<meta name="supported-color-schemes" content="light dark"/>`,
		`role="presentation"`,
		`<!--[if mso]><table role="presentation" align="center" width="600"`,
		"@media (max-width: 620px)",
		"@media (prefers-color-scheme: dark)",
		"Issue 2026-W19 · May 4, 2026",
		"You get this because you subscribed to The Technerdo Weekly at technerdo.com.",
		"Technerdo Media<br/>Büyükdere Cd. 185, Levent<br/>34394 Istanbul, Türkiye",
		`>Unsubscribe</a>`,
	} {
		if !strings.Contains(e.HTML, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	for _, never := range []string{"<script", "<form", "@import", "@font-face", "<link"} {
		if strings.Contains(e.HTML, never) {
			t.Errorf("HTML contains %q", never)
		}
	}
	doc, err := html.Parse(strings.NewReader(e.HTML))
	if err != nil {
		t.Fatal(err)
	}
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "table" {
			attrs := map[string]string{}
			for _, a := range n.Attr {
				attrs[a.Key] = a.Val
			}
			if attrs["role"] != "presentation" || attrs["cellpadding"] != "0" || attrs["cellspacing"] != "0" {
				t.Errorf("layout table without role=presentation and zero cellpadding/cellspacing: %v", n.Attr)
			}
		}
		if n.Type == html.ElementNode && n.Data == "body" {
			first := n.FirstChild
			for first != nil && first.Type != html.ElementNode {
				first = first.NextSibling
			}
			if first == nil || first.Data != "div" || !strings.Contains(first.FirstChild.Data, e.Preheader) {
				t.Errorf("the first element of body is not the preheader")
			}
		}
	}
}

func TestSubject(t *testing.T) {
	r := mustNew(t, technerdo(), "")
	tests := []struct {
		name    string
		subject string
		title   string
		want    string
	}{
		{"default is name and top title", "", "Microsoft and OpenAI End Exclusive Cloud Partnership", "The Technerdo Weekly: Microsoft and OpenAI End Exclusive Cloud Partnership"},
		{"explicit subject wins", "Five stories worth your Monday", "Ignored title", "Five stories worth your Monday"},
		{"CR LF in the top title", "", "Line one\r\nBcc: victim@example.com", "The Technerdo Weekly: Line one Bcc: victim@example.com"},
		{"bare CR and LF in the top title", "", "a\rb\nc\u2028d", "The Technerdo Weekly: a b c d"},
		{"CR LF in an explicit subject", "Hello\r\n\r\nWorld\t!", "Title", "Hello World !"},
		{"other control characters", "Bell\aand\x00nul", "Title", "Bell and nul"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issue := goldenIssue()
			issue.Subject = tt.subject
			issue.Stories[0].Title = tt.title
			e := mustIssue(t, r, issue)
			if e.Subject != tt.want {
				t.Errorf("Subject = %q, want %q", e.Subject, tt.want)
			}
			if strings.ContainsAny(e.Subject, "\r\n") {
				t.Errorf("Subject %q holds CR or LF", e.Subject)
			}
		})
	}
}

func TestPreheader(t *testing.T) {
	r := mustNew(t, technerdo(), "")
	long := strings.Repeat("Very long headline words ", 10)
	tests := []struct {
		name      string
		preheader string
		stories   func([]newsletter.Story) []newsletter.Story
		want      string
	}{
		{
			name: "default lists the next titles that fit",
			want: "Also: Musk vs. Altman Trial Explained: Why OpenAI's Future Is in Court · OpenAI Launches GPT-5.5: ChatGPT Becomes an Agent, Not a Chatbot",
		},
		{
			name:      "explicit preheader wins, on one line",
			preheader: "Cloud wars,\r\ncourtrooms and a new Apple CEO.",
			want:      "Cloud wars, courtrooms and a new Apple CEO.",
		},
		{
			name:    "one story previews its dek",
			stories: func(s []newsletter.Story) []newsletter.Story { return s[5:6] },
			want:    "Prices we checked against their 90-day history, so you only see the real drops.",
		},
		{
			name: "one story without a dek previews the tagline",
			stories: func(s []newsletter.Story) []newsletter.Story {
				s[0].Summary = ""
				return s[:1]
			},
			want: "Analysis worth reading, delivered every Monday.",
		},
		{
			name: "a long next title is cut at a word",
			stories: func(s []newsletter.Story) []newsletter.Story {
				s[1].Title = long
				return s[:2]
			},
			want: truncate("Also: "+strings.TrimSpace(long), preheaderMax),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issue := goldenIssue()
			issue.Preheader = tt.preheader
			if tt.stories != nil {
				issue.Stories = tt.stories(issue.Stories)
			}
			e := mustIssue(t, r, issue)
			if e.Preheader != tt.want {
				t.Errorf("Preheader = %q, want %q", e.Preheader, tt.want)
			}
			if n := len([]rune(e.Preheader)); n > preheaderMax {
				t.Errorf("Preheader is %d characters, want at most %d", n, preheaderMax)
			}
			if strings.Contains(e.Text, e.Preheader) && tt.preheader != "" {
				t.Errorf("explicit preheader leaks into the text part")
			}
			if !strings.Contains(e.HTML, html.EscapeString(e.Preheader)) {
				t.Errorf("HTML does not carry the preheader %q", e.Preheader)
			}
		})
	}
}

func TestHostileTextIsEscaped(t *testing.T) {
	r := mustNew(t, technerdo(), "")
	tests := []struct {
		name  string
		edit  func(*newsletter.Story)
		never []string // must not appear in the HTML
		want  []string // must appear in the HTML
	}{
		{
			name:  "script in title",
			edit:  func(s *newsletter.Story) { s.Title = `<script>alert("x")</script> & more` },
			never: []string{"<script", `alert("x")`},
			want:  []string{"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more"},
		},
		{
			name: "quotes breaking out of attributes",
			edit: func(s *newsletter.Story) {
				s.Title = `"><img src=x onerror=alert(1)>`
				s.ImageAlt = `" onload="alert(1)`
			},
			never: []string{`onload="alert`, "<img src=x"},
			want:  []string{"&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"},
		},
		{
			name:  "markup and quotes in summary",
			edit:  func(s *newsletter.Story) { s.Summary = `It's <b>bold</b> & "quoted"` },
			never: []string{"<b>bold</b>"},
			want:  []string{"It&#39;s &lt;b&gt;bold&lt;/b&gt; &amp; &#34;quoted&#34;"},
		},
		{
			name:  "javascript link",
			edit:  func(s *newsletter.Story) { s.URL = "javascript:alert(1)" },
			never: []string{"javascript:"},
			want:  []string{`href="#ZgotmplZ"`},
		},
		{
			name:  "style breaking author",
			edit:  func(s *newsletter.Story) { s.Author = "</p><style>p{display:none}</style>" },
			never: []string{"<style>p{"},
			want:  []string{"By &lt;/p&gt;&lt;style&gt;p{display:none}&lt;/style&gt;"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issue := goldenIssue()
			for i := range issue.Stories {
				tt.edit(&issue.Stories[i])
			}
			e := mustIssue(t, r, issue)
			for _, s := range tt.never {
				if strings.Contains(e.HTML, s) {
					t.Errorf("HTML contains %q", s)
				}
			}
			// Long words carry invisible break opportunities (soft); the text is what counts.
			visible := strings.ReplaceAll(e.HTML, "\u200b", "")
			for _, s := range tt.want {
				if !strings.Contains(visible, s) {
					t.Errorf("HTML lacks %q", s)
				}
			}
		})
	}
}

func TestBadLinksWarn(t *testing.T) {
	r := mustNew(t, technerdo(), "")
	issue := goldenIssue()
	issue.Stories[1].URL = "javascript:alert(1)"
	issue.Stories[2].ImageURL = "/images/relative.jpg"
	e := mustIssue(t, r, issue)
	want := []string{
		`story 2 "Musk vs. Altman Trial Explained: Why OpenAI's Future Is in Court": link "javascript:alert(1)" is not an absolute http(s) URL`,
		`story 3 "OpenAI Launches GPT-5.5: ChatGPT Becomes an Agent, Not a Chatbot": image "/images/relative.jpg" is not an absolute http(s) URL; left out`,
	}
	if strings.Join(e.Warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("Warnings = %q, want %q", e.Warnings, want)
	}
	if strings.Contains(e.HTML, "relative.jpg") {
		t.Errorf("HTML still shows the relative image")
	}
}

func TestImagesHaveAltAndAbsoluteSrc(t *testing.T) {
	withLogo := technerdo()
	withLogo.LogoURL = "https://technerdo.com/brand/logo-email.png"
	noAlt := goldenIssue()
	for i := range noAlt.Stories {
		noAlt.Stories[i].ImageAlt = ""
		noAlt.Stories[i].ImageURL = fmt.Sprintf("https://technerdo.com/images/%d.jpg", i)
	}
	tests := []struct {
		name   string
		pub    Publication
		issue  newsletter.Issue
		images int
	}{
		{"golden", technerdo(), goldenIssue(), 4},
		{"logo", withLogo, goldenIssue(), 5},
		{"no alt text given", technerdo(), noAlt, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustIssue(t, mustNew(t, tt.pub, ""), tt.issue)
			doc, err := html.Parse(strings.NewReader(e.HTML))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for node := range doc.Descendants() {
				if node.Type != html.ElementNode || node.Data != "img" {
					continue
				}
				n++
				attrs := map[string]string{}
				for _, a := range node.Attr {
					attrs[a.Key] = a.Val
				}
				if strings.TrimSpace(attrs["alt"]) == "" {
					t.Errorf("img %q has no alt text", attrs["src"])
				}
				if !strings.HasPrefix(attrs["src"], "https://") && !strings.HasPrefix(attrs["src"], "http://") {
					t.Errorf("img src %q is not absolute", attrs["src"])
				}
				if attrs["height"] == "" {
					t.Errorf("img %q has no height attribute", attrs["src"])
				}
				if attrs["width"] == "" && attrs["class"] != "logo" {
					t.Errorf("img %q has no width attribute", attrs["src"])
				}
			}
			if n != tt.images {
				t.Errorf("found %d images, want %d", n, tt.images)
			}
		})
	}
}

func TestPlaceholders(t *testing.T) {
	r := mustNew(t, technerdo(), "")
	e := mustIssue(t, r, goldenIssue())
	for _, p := range []string{PlaceholderUnsubscribeURL, PlaceholderEmail} {
		if n := strings.Count(e.HTML, p); n != 1 {
			t.Errorf("HTML holds %s %d times, want once", p, n)
		}
		if n := strings.Count(e.Text, p); n != 1 {
			t.Errorf("Text holds %s %d times, want once", p, n)
		}
	}
	// Placeholders must come through go-premailer's HTML parser and serializer untouched.
	if !strings.Contains(e.HTML, `href="`+PlaceholderUnsubscribeURL+`"`) {
		t.Errorf("HTML lacks the unsubscribe link to the placeholder")
	}
	if !strings.Contains(e.HTML, "This email was sent to "+PlaceholderEmail+".") {
		t.Errorf("HTML lacks the sent-to line with the placeholder")
	}
	if !strings.Contains(e.Text, "Unsubscribe: "+PlaceholderUnsubscribeURL+"\n") {
		t.Errorf("Text lacks the unsubscribe line")
	}

	tests := []struct {
		name     string
		rc       Recipient
		wantHTML []string
		wantText []string
	}{
		{
			name:     "plain address",
			rc:       Recipient{Email: "ada@example.com", UnsubscribeURL: "https://technerdo.com/u/tok123"},
			wantHTML: []string{`href="https://technerdo.com/u/tok123"`, "sent to ada@example.com."},
			wantText: []string{"Unsubscribe: https://technerdo.com/u/tok123\n", "sent to ada@example.com."},
		},
		{
			name:     "address and URL that need escaping",
			rc:       Recipient{Email: "o'brien&co@example.com", UnsubscribeURL: "https://technerdo.com/u/tok?a=1&b=\"2\""},
			wantHTML: []string{`href="https://technerdo.com/u/tok?a=1&amp;b=&#34;2&#34;"`, "sent to o&#39;brien&amp;co@example.com."},
			wantText: []string{"Unsubscribe: https://technerdo.com/u/tok?a=1&b=\"2\"\n", "sent to o'brien&co@example.com."},
		},
		{
			name:     "markup in an address",
			rc:       Recipient{Email: "<b>x</b>@example.com", UnsubscribeURL: "https://technerdo.com/u/t"},
			wantHTML: []string{"sent to &lt;b&gt;x&lt;/b&gt;@example.com."},
			wantText: []string{"sent to <b>x</b>@example.com."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Rebuilt from the saved strings, as a resend does.
			saved := Email{Subject: e.Subject, HTML: e.HTML, Text: e.Text}
			gotHTML, gotText := saved.Personalize(tt.rc)
			for _, got := range []string{gotHTML, gotText} {
				if strings.Contains(got, placeholderPrefix) {
					t.Errorf("placeholder left after Personalize")
				}
			}
			for _, w := range tt.wantHTML {
				if !strings.Contains(gotHTML, w) {
					t.Errorf("HTML lacks %q", w)
				}
			}
			for _, w := range tt.wantText {
				if !strings.Contains(gotText, w) {
					t.Errorf("Text lacks %q", w)
				}
			}
			if len(gotHTML) <= len(e.HTML)-len(PlaceholderEmail)-len(PlaceholderUnsubscribeURL) {
				t.Errorf("personalized HTML is too short: %d bytes from %d", len(gotHTML), len(e.HTML))
			}
		})
	}
}

func TestPlaceholdersInStoriesAreDefused(t *testing.T) {
	r := mustNew(t, technerdo(), "")
	issue := goldenIssue()
	issue.Subject = "Hi " + PlaceholderEmail
	issue.Stories[0].Title = "Win big, " + PlaceholderEmail
	issue.Stories[0].URL = "https://evil.example/?leak=" + PlaceholderUnsubscribeURL
	issue.Stories[1].Summary = "Send " + PlaceholderUnsubscribeURL
	issue.Stories[2].ImageURL = "https://evil.example/pixel.gif?to=" + PlaceholderEmail
	e := mustIssue(t, r, issue)
	if strings.Contains(e.Subject, PlaceholderEmail) {
		t.Errorf("Subject carries a live placeholder: %q", e.Subject)
	}
	h, txt := e.Personalize(Recipient{Email: "ada@example.com", UnsubscribeURL: "https://technerdo.com/u/SECRET"})
	for name, got := range map[string]string{"HTML": h, "Text": txt} {
		if n := strings.Count(got, "ada@example.com"); n != 1 {
			t.Errorf("%s shows the address %d times, want once (the footer)", name, n)
		}
		if n := strings.Count(got, "SECRET"); n != 1 {
			t.Errorf("%s shows the unsubscribe token %d times, want once (the footer)", name, n)
		}
	}
}

func TestNoStories(t *testing.T) {
	r := mustNew(t, technerdo(), "")
	issue := goldenIssue()
	issue.Stories = nil
	_, err := r.Issue(issue)
	if !errors.Is(err, ErrNoStories) {
		t.Fatalf("Issue with no stories: err = %v, want ErrNoStories", err)
	}
}

func TestClipWarning(t *testing.T) {
	r := mustNew(t, technerdo(), "")
	e := mustIssue(t, r, manyStories(20))
	if len(e.Warnings) != 0 {
		t.Errorf("20 stories (%d bytes): warnings %q", len(e.HTML), e.Warnings)
	}
	e = mustIssue(t, r, manyStories(80))
	if len(e.HTML) <= clipWarnBytes {
		t.Fatalf("80 stories are only %d bytes; make the test issue bigger", len(e.HTML))
	}
	want := fmt.Sprintf("HTML is %d KB after inlining; Gmail clips messages over 102 KB", (len(e.HTML)+1023)/1024)
	if len(e.Warnings) != 1 || e.Warnings[0] != want {
		t.Errorf("Warnings = %q, want [%q]", e.Warnings, want)
	}
}

func TestOverride(t *testing.T) {
	dir := t.TempDir()
	txt := "{{.Publication.Name}} — {{.Week}}\n{{range .Stories}}* {{.Title}}\n{{end}}Unsubscribe: {{.UnsubscribeURL}}\n"
	if err := os.WriteFile(filepath.Join(dir, "digest.txt.tmpl"), []byte(txt), 0o644); err != nil {
		t.Fatal(err)
	}
	// Files that are not one of ours are ignored.
	if err := os.WriteFile(filepath.Join(dir, "notes.md"), []byte("{{"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := mustIssue(t, mustNew(t, technerdo(), dir), goldenIssue())
	embedded := mustIssue(t, mustNew(t, technerdo(), ""), goldenIssue())
	if !strings.HasPrefix(got.Text, "The Technerdo Weekly — 2026-W19\n* Microsoft and OpenAI End") {
		t.Errorf("override not used; Text begins %q", got.Text[:min(80, len(got.Text))])
	}
	if got.HTML != embedded.HTML {
		t.Errorf("overriding the text template changed the HTML")
	}
}

func TestNewErrors(t *testing.T) {
	write := func(t *testing.T, name, body string) string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	with := func(edit func(*Publication)) Publication {
		p := technerdo()
		edit(&p)
		return p
	}
	tests := []struct {
		name     string
		pub      Publication
		override func(t *testing.T) string
		want     []string // substrings of the error
	}{
		{
			name: "syntax error in text override",
			pub:  technerdo(),
			override: func(t *testing.T) string {
				return write(t, "digest.txt.tmpl", "{{.Publication.Name}}\n\n{{range .Stories}}\n{{.Title}\n{{end}}\n")
			},
			want: []string{"digest.txt.tmpl", "digest.txt.tmpl:4"},
		},
		{
			name: "syntax error in html partial override",
			pub:  technerdo(),
			override: func(t *testing.T) string {
				return write(t, "story.html.tmpl", "<p>{{.Kicker}}</p>\n<h1>{{.Title}</h1>\n<p>{{.Summary}}</p>\n")
			},
			want: []string{"story.html.tmpl", "story.html.tmpl:2"},
		},
		{
			name: "unknown field in override",
			pub:  technerdo(),
			override: func(t *testing.T) string {
				return write(t, "digest.txt.tmpl", "{{.Publication.Name}}\n{{.Publication.Motto}}\n")
			},
			want: []string{"digest.txt.tmpl:2", "Motto"},
		},
		{
			name:     "override directory missing",
			pub:      technerdo(),
			override: func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") },
			want:     []string{"override directory", "nope"},
		},
		{"accent colour name", with(func(p *Publication) { p.AccentColor = "red" }), nil, []string{`accent colour "red"`}},
		{"accent colour without hash", with(func(p *Publication) { p.AccentColor = "c8102e" }), nil, []string{"accent colour"}},
		{"accent colour of four digits", with(func(p *Publication) { p.AccentColor = "#c810" }), nil, []string{"accent colour"}},
		{"accent colour not hex", with(func(p *Publication) { p.AccentColor = "#gg0000" }), nil, []string{"accent colour"}},
		{"accent colour with CSS", with(func(p *Publication) { p.AccentColor = "#fff;} body{display:none" }), nil, []string{"accent colour"}},
		{"no name", with(func(p *Publication) { p.Name = " \r\n" }), nil, []string{"name is required"}},
		{"no postal address", with(func(p *Publication) { p.PostalAddress = "" }), nil, []string{"postal address"}},
		{"relative website", with(func(p *Publication) { p.WebsiteURL = "technerdo.com" }), nil, []string{"website URL"}},
		{"javascript logo", with(func(p *Publication) { p.LogoURL = "javascript:alert(1)" }), nil, []string{"logo URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := ""
			if tt.override != nil {
				dir = tt.override(t)
			}
			_, err := New(tt.pub, dir)
			if err == nil {
				t.Fatal("New succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestPublicationDefaults(t *testing.T) {
	p := technerdo()
	p.AccentColor = "#C81"
	p.TimeZone = nil
	r := mustNew(t, p, "")
	e := mustIssue(t, r, goldenIssue())
	for _, want := range []string{
		`<html lang="en"`,
		`bgcolor="#c81"`,
		"You get this because you subscribed to The Technerdo Weekly at technerdo.com.",
		"Issue 2026-W19 · May 4, 2026",
		"color: #e0b870 !important", // #cc8811 lightened for dark mode
	} {
		if !strings.Contains(e.HTML, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	p.Language = "tr"
	p.WhyText = "Technerdo'ya abone olduğunuz için bu e-postayı alıyorsunuz."
	e = mustIssue(t, mustNew(t, p, ""), goldenIssue())
	for _, want := range []string{`<html lang="tr"`, "Technerdo&#39;ya abone"} {
		if !strings.Contains(e.HTML, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		name  string
		width int
		in    string
		want  string
	}{
		{"short", 72, "Hello world", "Hello world"},
		{"exact fit", 11, "Hello world", "Hello world"},
		{"one over", 10, "Hello world", "Hello\nworld"},
		{"collapses spaces", 72, "  a \t b\n c  ", "a b c"},
		{"long word alone", 10, "see https://technerdo.com/a/very/long/path now", "see\nhttps://technerdo.com/a/very/long/path\nnow"},
		{"counts characters not bytes", 7, "çğış öü", "çğış öü"},
		{"keeps paragraphs", 72, "One.\n\nTwo.", "One.\n\nTwo."},
		{"empty", 72, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := wrap(tt.width, tt.in); got != tt.want {
				t.Errorf("wrap(%d, %q) = %q, want %q", tt.width, tt.in, got, tt.want)
			}
		})
	}
}

func TestTextLinesFit(t *testing.T) {
	e := mustIssue(t, mustNew(t, technerdo(), ""), goldenIssue())
	for i, line := range strings.Split(e.Text, "\n") {
		if n := len([]rune(line)); n > 72 && !strings.HasPrefix(line, "https://") {
			t.Errorf("text line %d is %d characters: %q", i+1, n, line)
		}
	}
}

func BenchmarkIssue(b *testing.B) {
	r := mustNew(b, technerdo(), "")
	issue := manyStories(20)
	for b.Loop() {
		if _, err := r.Issue(issue); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPersonalize(b *testing.B) {
	rc := Recipient{Email: "o'brien&co@example.com", UnsubscribeURL: "https://technerdo.com/u/3q2-7hT9xVbK0pLm4sRz8wYc"}
	for _, n := range []int{6, 20} {
		e := mustIssue(b, mustNew(b, technerdo(), ""), manyStories(n))
		b.Run(fmt.Sprintf("stories=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(e.HTML) + len(e.Text)))
			for b.Loop() {
				e.Personalize(rc)
			}
		})
	}
}

// checkGolden compares got with testdata/file, rewriting the file first under -update.
func checkGolden(t *testing.T, file, got string) {
	t.Helper()
	path := filepath.Join("testdata", file)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/render -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the output (go test ./internal/render -update to accept):\n%s", path, firstDiff(string(want), got))
	}
}
