package render

import (
	"cmp"
	"fmt"
	htmltemplate "html/template"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"newsletter/internal/newsletter"
)

// TemplateData is the dot of digest.html.tmpl and digest.txt.tmpl. Its fields are the contract with
// override templates: renaming one breaks them.
type TemplateData struct {
	Publication    Publication       // with defaults applied
	Dir            string            // "rtl" when Publication.Language is written right to left, else "ltr"
	AccentOnDark   string            // AccentColor lightened to 4.5:1 or more on the dark background
	WebsiteHost    string            // "technerdo.com", for link text
	AddressLines   []string          // PostalAddress split on newlines
	Subject        string            // the final subject line
	Preheader      string            // the inbox preview text
	Week           string            // "2026-W19"; empty when the issue has no week
	Date           string            // "May 4, 2026", Monday of Week in the publication's time zone
	Stories        []TemplateStory   // all stories; the first is the lead
	Lead           TemplateStory     // Stories[0]
	More           []TemplateStory   // Stories[1:]
	UnsubscribeURL string            // PlaceholderUnsubscribeURL, filled in per recipient
	RecipientEmail string            // PlaceholderEmail, filled in per recipient
	ViewURL        string            // the issue's public archive page, or empty
	IntroHTML      htmltemplate.HTML // the editor's note, Markdown converted and sanitised; may be empty
	IntroText      string            // the editor's note as plain text (from IntroHTML), for the plain-text part
	Sections       []TemplateSection // More grouped by section when the editor asked for it; else nil
}

// TemplateSection is a run of stories under one section heading.
type TemplateSection struct {
	Name    string // "News"; "More this week" for stories without a section
	Stories []TemplateStory
}

// TemplateStory is one story as the templates see it: single-line plain text and ready-made labels.
type TemplateStory struct {
	Lead      bool   // the top story
	Title     string // one line
	URL       string
	Summary   string // the dek, one paragraph
	Author    string
	Section   string
	Kicker    string // "News · AI": the section and the first other category
	ImageURL  string // absolute http(s) URL or empty
	ImageAlt  string // never empty when ImageURL is set (falls back to Title)
	ReadTime  string // "5 min read", or empty when unknown
	Byline    string // "By Omer YLD · 5 min read", or whichever part is known
	Published string // "Apr 28, 2026" in the publication's time zone, or empty
	// Dir is "rtl" or "ltr" when the story is written in the other direction than the issue
	// (by the first strongly directional letter of its title), else empty.
	Dir string
}

// data builds the template data for an issue, with warnings about stories that could not be shown as given.
func (r *Renderer) data(issue newsletter.Issue) (TemplateData, []string, error) {
	var warnings []string
	d := TemplateData{
		Publication:    r.pub,
		Dir:            textDirection(r.pub.Language),
		AccentOnDark:   onDark(r.pub.AccentColor),
		WebsiteHost:    siteHost(r.pub.WebsiteURL),
		UnsubscribeURL: PlaceholderUnsubscribeURL,
		RecipientEmail: PlaceholderEmail,
	}
	for _, line := range strings.Split(r.pub.PostalAddress, "\n") {
		if line = oneLine(line); line != "" {
			d.AddressLines = append(d.AddressLines, line)
		}
	}
	if !issue.Week.IsZero() {
		d.Week = issue.Week.String()
		d.Date = issue.Week.Start(r.pub.TimeZone).Format("January 2, 2006")
	}
	for i, s := range issue.Stories {
		ts := r.story(s)
		ts.Lead = i == 0
		if dir := strongDirection(ts.Title + " " + ts.Summary); dir != "" && dir != d.Dir {
			ts.Dir = dir
		}
		if !isHTTPURL(ts.URL) {
			warnings = append(warnings, fmt.Sprintf("story %d %q: link %q is not an absolute http(s) URL", i+1, ts.Title, ts.URL))
		}
		if s.ImageURL != "" && ts.ImageURL == "" {
			warnings = append(warnings, fmt.Sprintf("story %d %q: image %q is not an absolute http(s) URL; left out", i+1, ts.Title, s.ImageURL))
		}
		d.Stories = append(d.Stories, ts)
	}
	d.Lead, d.More = d.Stories[0], d.Stories[1:]
	if r.pub.ArchiveURL != "" && d.Week != "" {
		d.ViewURL = r.pub.ArchiveURL + "/" + d.Week
	}
	intro, err := introHTML(issue.Intro)
	if err != nil {
		return d, warnings, fmt.Errorf("intro: %w", err)
	}
	d.IntroHTML = htmltemplate.HTML(softHTML(string(intro)))
	d.IntroText = introText(intro)
	if issue.GroupBySection {
		d.Sections = sections(d.More)
	}

	d.Subject = oneLine(issue.Subject)
	if d.Subject == "" {
		d.Subject = r.pub.Name + ": " + d.Lead.Title
	}
	d.Preheader = oneLine(issue.Preheader)
	if d.Preheader == "" {
		d.Preheader = defaultPreheader(d.Stories, r.pub.Tagline)
	}
	return d, warnings, nil
}

// sections groups stories by section in order of first appearance; stories without one
// go last under "More this week".
func sections(stories []TemplateStory) []TemplateSection {
	var out []TemplateSection
	index := map[string]int{}
	for _, s := range stories {
		key := strings.ToLower(s.Section)
		i, ok := index[key]
		if !ok {
			i, index[key] = len(out), len(out)
			out = append(out, TemplateSection{Name: cmp.Or(s.Section, "More this week")})
		}
		out[i].Stories = append(out[i].Stories, s)
	}
	if i, ok := index[""]; ok {
		rest := out[i]
		out = append(slices.Delete(out, i, i+1), rest)
	}
	return out
}

func (r *Renderer) story(s newsletter.Story) TemplateStory {
	ts := TemplateStory{
		Title:   oneLine(s.Title),
		URL:     defuseURL(strings.TrimSpace(s.URL)),
		Summary: oneLine(s.Summary),
		Author:  oneLine(s.Author),
		Section: oneLine(s.Section),
	}
	ts.Title = cmp.Or(ts.Title, "Untitled")
	ts.Kicker = ts.Section
	for _, c := range s.Categories {
		c = oneLine(c)
		if c == "" || strings.EqualFold(c, ts.Section) {
			continue
		}
		ts.Kicker = joinDot(ts.Section, c)
		break
	}
	if img := strings.TrimSpace(s.ImageURL); isHTTPURL(img) {
		ts.ImageURL = defuseURL(img)
		ts.ImageAlt = cmp.Or(oneLine(s.ImageAlt), ts.Title)
	}
	if s.ReadMinutes > 0 {
		ts.ReadTime = fmt.Sprintf("%d min read", s.ReadMinutes)
	}
	by := ""
	if ts.Author != "" {
		by = "By " + ts.Author
	}
	ts.Byline = joinDot(by, ts.ReadTime)
	if !s.Published.IsZero() {
		ts.Published = s.Published.In(r.pub.TimeZone).Format("Jan 2, 2006")
	}
	return ts
}

// preheaderMax is the longest generated preheader, in characters; clients show 40 to 100 of them.
const preheaderMax = 140

// defaultPreheader lists the titles after the lead ("Also: A · B"); a single-story issue
// previews its dek instead, or else the tagline.
func defaultPreheader(stories []TemplateStory, tagline string) string {
	if len(stories) < 2 {
		if s := stories[0].Summary; s != "" {
			return truncate(s, preheaderMax)
		}
		return oneLine(tagline)
	}
	p := "Also: " + stories[1].Title
	for _, s := range stories[2:] {
		next := p + " · " + s.Title
		if utf8.RuneCountInString(next) > preheaderMax {
			break
		}
		p = next
	}
	return truncate(p, preheaderMax)
}

// truncate shortens s to at most max characters, cutting at a space and adding an ellipsis.
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	rs := []rune(s)[:max-1]
	if i := strings.LastIndexByte(string(rs), ' '); i > 0 {
		return strings.TrimRight(string(rs)[:i], " ,;:·-") + "…"
	}
	return string(rs) + "…"
}

// oneLine collapses all whitespace and control characters (CR and LF among them) into single spaces,
// so that nothing from a feed can break a header or the text layout, and defuses placeholders.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return defuseText(strings.Join(strings.Fields(s), " "))
}

// A story could carry a placeholder in its text or link and have Personalize put a recipient's
// address or unsubscribe token there (in a link to someone else's site, say). Only the templates
// may place placeholders, so any in the data is broken up before rendering.
func defuseText(s string) string { return strings.ReplaceAll(s, placeholderPrefix, "__NL\u200b_") }
func defuseURL(s string) string  { return strings.ReplaceAll(s, placeholderPrefix, "%5F%5FNL%5F") }

// lighten mixes a validated #rgb or #rrggbb colour with white; f is the share of white.
func lighten(hex string, f float64) string {
	h := hex[1:]
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	var rgb [3]uint64
	for i := range rgb {
		rgb[i], _ = strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		rgb[i] += uint64(math.Round(float64(255-rgb[i]) * f))
	}
	return fmt.Sprintf("#%02x%02x%02x", rgb[0], rgb[1], rgb[2])
}

// darkSurface is the darkest background text sits on in dark mode (.container).
const darkSurface = "#1c1c1c"

// onDark is the accent lightened, at least by 40% and further as needed, until it keeps
// 4.5:1 (WCAG AA) on the dark surface.
func onDark(accent string) string {
	c := lighten(accent, 0.4)
	for f := 0.45; contrast(c, darkSurface) < 4.5 && f <= 1; f += 0.05 {
		c = lighten(accent, f)
	}
	return c
}

// contrast is the WCAG 2 contrast ratio of two #rrggbb colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

func luminance(hex string) float64 {
	var l float64
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.03928 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		l += w * c
	}
	return l
}

// textDirection is "rtl" for the languages written right to left (by primary subtag).
func textDirection(lang string) string {
	primary, _, _ := strings.Cut(strings.ToLower(lang), "-")
	switch primary {
	case "ar", "arc", "ckb", "dv", "fa", "he", "iw", "ks", "ku", "ps", "sd", "syr", "ug", "ur", "yi":
		return "rtl"
	}
	return "ltr"
}

// strongDirection is "rtl" or "ltr" by the first letter of s that has a strong direction
// (the rule of dir="auto"), "" when s has none.
func strongDirection(s string) string {
	for _, r := range s {
		switch {
		case unicode.In(r, unicode.Arabic, unicode.Hebrew, unicode.Syriac, unicode.Thaana, unicode.Nko, unicode.Samaritan, unicode.Mandaic):
			return "rtl"
		case unicode.IsLetter(r):
			return "ltr"
		}
	}
	return ""
}

// softRun is the longest run of characters soft leaves without a break opportunity: about
// half the width of a 375 px phone at the body size.
const softRun = 20

// longWord matches a run of more than softRun characters without white space (the class is
// unicode.IsSpace).
var longWord = regexp.MustCompile(fmt.Sprintf(`[^\t\n\v\f\r\x{85}\pZ]{%d,}`, softRun+1))

// soft returns s with zero-width spaces in its long words (URLs, paths, addresses, German
// compounds): after their punctuation and at least every softRun characters, so that
// clients that ignore overflow-wrap still break a word wider than the screen. Words of
// softRun characters or fewer are left alone.
func soft(s string) string {
	return longWord.ReplaceAllStringFunc(s, func(word string) string {
		var b strings.Builder
		run, prev := 0, rune(0)
		for _, r := range word {
			// Forced breaks go between letters and digits only: never inside an emoji
			// sequence (ZWJ, modifiers, flags) or before a combining mark.
			if run >= softRun && isLetterOrDigit(prev) && isLetterOrDigit(r) {
				b.WriteRune('\u200b')
				run = 0
			}
			prev = r
			b.WriteRune(r)
			run++
			if run > 1 && strings.ContainsRune("/.-_?&=@#:,;", r) {
				b.WriteRune('\u200b')
				run = 0
			}
		}
		return b.String()
	})
}

func isLetterOrDigit(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// joinDot joins the non-empty parts with " · ".
func joinDot(parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(p string) bool { return p == "" }), " · ")
}

// wrap fills text into lines of at most width characters, breaking between words; a word longer
// than width (a URL) gets a line of its own. Blank lines separate paragraphs and are kept.
func wrap(width int, s string) string {
	var b strings.Builder
	for i, para := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if i > 0 {
			b.WriteString("\n\n")
		}
		n := 0
		for _, w := range strings.Fields(para) {
			wl := utf8.RuneCountInString(w)
			switch {
			case n == 0:
			case n+1+wl > width:
				b.WriteByte('\n')
				n = 0
			default:
				b.WriteByte(' ')
				n++
			}
			b.WriteString(w)
			n += wl
		}
	}
	return b.String()
}

// textFuncs are the functions digest.txt.tmpl and its partials may call.
func textFuncs() map[string]any {
	return map[string]any{
		"wrap":    wrap,    // {{wrap 72 .Summary}}
		"joinDot": joinDot, // {{joinDot .Section .Author .ReadTime}}
		"upper":   strings.ToUpper,
	}
}

// htmlFuncs are the functions digest.html.tmpl and its partials may call.
func htmlFuncs() htmltemplate.FuncMap {
	return htmltemplate.FuncMap{
		"joinDot": joinDot,
		"mso":     mso,
		"soft":    soft, // {{soft .Title}}: break opportunities in long words
	}
}

// mso wraps markup in an Outlook-only conditional comment: {{mso `<table ...><tr><td>`}}.
// html/template drops comments written in a template, so the ghost tables Outlook needs are
// emitted through this function. Pass it template constants only, never data: it is not escaped.
func mso(markup string) htmltemplate.HTML {
	return htmltemplate.HTML("<!--[if mso]>" + markup + "<![endif]-->")
}
