package render

import (
	"bytes"
	"html"
	htmltemplate "html/template"
	"regexp"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	xhtml "golang.org/x/net/html"
)

// intro is the Markdown converter of editors' notes. goldmark's defaults are the sanitiser:
// without html.WithUnsafe raw HTML is dropped ("<!-- raw HTML omitted -->") and links with
// javascript:, vbscript:, file: or data: (other than images) URLs are emptied.
var intro = goldmark.New(goldmark.WithExtensions(extension.Linkify, extension.Strikethrough))

// introHTML converts an editor's Markdown note to safe HTML; empty in, empty out.
func introHTML(md string) (htmltemplate.HTML, error) {
	md = strings.TrimSpace(stripHidden(defuseText(md)))
	if md == "" {
		return "", nil
	}
	var buf bytes.Buffer
	if err := intro.Convert([]byte(md), &buf); err != nil {
		return "", err
	}
	// goldmark's output is built from escaped text and its own tags only (see above), which is
	// what makes this conversion to template.HTML sound.
	out := strings.ReplaceAll(buf.String(), "<!-- raw HTML omitted -->", "")
	// A link goldmark judged unsafe (javascript:, data:, ...) is left as <a href="">, which
	// goes nowhere and fails the draft's link check: its text stays, the link goes.
	out = emptyLink.ReplaceAllString(out, "$1")
	// The note sits above the lead story's h1: its own headings become bold paragraphs, so
	// that the email's headings start at h1 and never skip a level. Paragraphs become divs
	// spaced with padding (class intro-p): a <p> needs margin rules, which clients drop.
	out = introHeadingOpen.ReplaceAllString(out, "<p><strong>")
	out = introHeadingClose.ReplaceAllString(out, "</strong></p>")
	out = strings.ReplaceAll(out, "<p>", `<div class="intro-p">`)
	out = strings.ReplaceAll(out, "</p>", "</div>")
	return htmltemplate.HTML(out), nil
}

var (
	emptyLink         = regexp.MustCompile(`<a href=""(?: title="[^"]*")?>(.*?)</a>`)
	introHeadingOpen  = regexp.MustCompile(`<h[1-6][^>]*>`)
	introHeadingClose = regexp.MustCompile(`</h[1-6]>`)
)

// softHTML applies soft to the text between the tags of trusted, well-formed HTML (goldmark's
// output, where a "<" in text is always escaped).
func softHTML(h string) string {
	return tagOrText.ReplaceAllStringFunc(h, func(s string) string {
		if s[0] == '<' || !longWord.MatchString(s) {
			return s
		}
		return html.EscapeString(soft(html.UnescapeString(s)))
	})
}

// tagOrText matches a tag (one left open runs to the end) or the text up to the next tag.
var tagOrText = regexp.MustCompile(`<[^>]*>?|[^<]+`)

// hiddenElements match the raw HTML elements whose content a reader never sees, content and
// all (one left open runs to the end): goldmark drops their tags but would print what is
// between them ("alert(1)").
var hiddenElements = []*regexp.Regexp{hiddenElement("script"), hiddenElement("style"),
	hiddenElement("iframe"), hiddenElement("object"), hiddenElement("template"), hiddenElement("noscript"),
	hiddenElement("textarea"), hiddenElement("title"), hiddenElement("svg"), hiddenElement("math")}

// hiddenElement matches an opening tag of name (followed by white space, "/", ">" or the end)
// up to the end of its closing tag.
func hiddenElement(name string) *regexp.Regexp {
	return regexp.MustCompile(`(?is)<` + name + `(?:[ \t\r\n/>]|$).*?(?:</` + name + `[^>]*(?:>|$)|$)`)
}

// stripHidden removes hiddenElements from Markdown source, the leftmost first and again
// from the start, so that removing one cannot join the halves of another around it.
func stripHidden(md string) string {
	for _, re := range hiddenElements {
		for loc := re.FindStringIndex(md); loc != nil; loc = re.FindStringIndex(md) {
			md = md[:loc[0]] + md[loc[1]:]
		}
	}
	return md
}

// introText is the plain-text form of the rendered note: paragraphs and list items
// separated by blank lines, a link's address after its text when they differ, no markup.
func introText(h htmltemplate.HTML) string {
	var b strings.Builder
	var href string
	linkStart := 0
	z := xhtml.NewTokenizer(strings.NewReader(string(h)))
	for {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			return tidyText(b.String())
		case xhtml.TextToken:
			b.Write(z.Text())
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch string(name) {
			case "a":
				href = ""
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "href" {
						href = string(v)
					}
				}
				linkStart = b.Len()
			case "li":
				b.WriteString("\n\n- ")
			case "br":
				b.WriteString("\n")
			case "div", "p", "pre", "blockquote", "ul", "ol":
				b.WriteString("\n\n")
			}
		case xhtml.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "a":
				text := b.String()[linkStart:]
				if href != "" && href != text && strings.TrimPrefix(href, "mailto:") != text {
					b.WriteString(" (" + href + ")")
				}
				href = ""
			case "div", "p", "pre", "blockquote", "ul", "ol", "li":
				b.WriteString("\n\n")
			}
		}
	}
}

// tidyText trims each line and keeps at most one blank line between paragraphs.
func tidyText(s string) string {
	var out []string
	blank := false
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			blank = len(out) > 0
			continue
		}
		if blank {
			out = append(out, "")
			blank = false
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
