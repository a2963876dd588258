package render

import (
	"bytes"
	"html"
	htmltemplate "html/template"
	"regexp"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// intro is the Markdown converter of editors' notes. goldmark's defaults are the sanitiser:
// without html.WithUnsafe raw HTML is dropped ("<!-- raw HTML omitted -->") and links with
// javascript:, vbscript:, file: or data: (other than images) URLs are emptied.
var intro = goldmark.New(goldmark.WithExtensions(extension.Linkify, extension.Strikethrough))

// introHTML converts an editor's Markdown note to safe HTML; empty in, empty out.
func introHTML(md string) (htmltemplate.HTML, error) {
	md = strings.TrimSpace(defuseText(md))
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
	// The note sits above the lead story's h1: its own headings become bold paragraphs, so
	// that the email's headings start at h1 and never skip a level. Paragraphs become divs
	// spaced with padding (class intro-p): a <p> needs margin rules, which clients drop.
	out = introHeadingOpen.ReplaceAllString(out, "<p><strong>")
	out = introHeadingClose.ReplaceAllString(out, "</strong></p>")
	out = strings.ReplaceAll(out, "<p>", `<div class="intro-p">`)
	out = strings.ReplaceAll(out, "</p>", "</div>")
	return htmltemplate.HTML(softHTML(out)), nil
}

var (
	introHeadingOpen  = regexp.MustCompile(`<h[1-6][^>]*>`)
	introHeadingClose = regexp.MustCompile(`</h[1-6]>`)
)

// softHTML applies soft to the text between the tags of trusted, well-formed HTML (goldmark's
// output, where a "<" in text is always escaped).
func softHTML(h string) string {
	var b strings.Builder
	for h != "" {
		i := strings.IndexByte(h, '<')
		if i < 0 {
			i = len(h)
		}
		if text := h[:i]; hasLongWord(text) {
			b.WriteString(html.EscapeString(soft(html.UnescapeString(text))))
		} else {
			b.WriteString(text)
		}
		h = h[i:]
		if h == "" {
			break
		}
		j := strings.IndexByte(h, '>')
		if j < 0 {
			b.WriteString(h)
			break
		}
		b.WriteString(h[:j+1])
		h = h[j+1:]
	}
	return b.String()
}
