package feed

import (
	"bytes"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// hiddenText holds elements whose text a reader never sees.
var hiddenText = map[string]bool{
	"script": true, "style": true, "noscript": true, "template": true, "iframe": true,
	"object": true, "svg": true, "math": true, "head": true, "title": true, "textarea": true,
	"select": true,
}

// Tags that end a run of words, by how the text around them is joined. Blocks end a
// sentence ("<p>a</p><p>b</p>" reads "a. b"), so that tables, lists and code do not run
// together; cells are joined with " · " ("Model · Params. Qwen 3 · 8B"); breaks and
// images are a space.
var (
	blockElements = map[string]bool{
		"address": true, "article": true, "aside": true, "blockquote": true, "caption": true, "dd": true,
		"div": true, "dl": true, "dt": true, "figcaption": true, "figure": true, "footer": true,
		"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "header": true,
		"hr": true, "li": true, "main": true, "nav": true, "ol": true, "p": true, "pre": true,
		"section": true, "table": true, "tr": true, "ul": true, "thead": true, "tbody": true, "tfoot": true,
	}
	cellElements  = map[string]bool{"td": true, "th": true}
	spaceElements = map[string]bool{"br": true, "img": true, "wbr": true}
)

// Separators pending between two runs of text, the strongest kept.
const (
	sepNone = iota
	sepSpace
	sepCell
	sepBlock
)

// plainText returns the visible text of an HTML fragment on one line: tags dropped,
// entities decoded, control characters removed and white space collapsed, block
// elements kept apart (see blockElements). Feed titles, names and categories all go
// through it; the single line is what keeps them safe in an email header (no CR/LF can
// survive).
func plainText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return oneLine(s)
	}
	var b []byte
	z := html.NewTokenizer(strings.NewReader(s))
	hidden, sep := 0, sepNone
	for {
		switch tt := z.Next(); tt {
		case html.ErrorToken:
			return oneLine(string(b))
		case html.TextToken:
			text := z.Text()
			if hidden > 0 || len(bytes.TrimSpace(text)) == 0 {
				if hidden == 0 && len(text) > 0 {
					sep = max(sep, sepSpace)
				}
				continue
			}
			if len(b) > 0 {
				switch sep {
				case sepBlock:
					b = endSentence(b)
					// CJK sentences follow each other without a space.
					if r, _ := utf8.DecodeLastRune(b); r != '。' {
						b = append(b, ' ')
					}
				case sepCell:
					b = append(b, " · "...)
				case sepSpace:
					b = append(b, ' ')
				}
			}
			sep = sepNone
			b = append(b, text...)
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			bname, _ := z.TagName()
			name := string(bname)
			switch {
			case !hiddenText[name]:
			case tt == html.StartTagToken:
				hidden++
			case tt == html.EndTagToken && hidden > 0:
				hidden--
			}
			sep = max(sep, separator(name))
		}
	}
}

// endSentence ends the text in b with a full stop when it ends in a letter or digit (an
// ideographic one after CJK), so that the next block reads as a new sentence.
func endSentence(b []byte) []byte {
	b = bytes.TrimRightFunc(b, unicode.IsSpace)
	r, _ := utf8.DecodeLastRune(b)
	switch {
	case isIdeograph(r):
		return append(b, "。"...)
	case unicode.IsLetter(r) || unicode.IsDigit(r):
		return append(b, '.')
	}
	return b
}

// separator is what an element puts between its text and its neighbours'.
func separator(name string) int {
	switch {
	case blockElements[name]:
		return sepBlock
	case cellElements[name]:
		return sepCell
	case spaceElements[name]:
		return sepSpace
	}
	return sepNone
}

// oneLine collapses white space (CR and LF included) to single spaces, removes other
// control characters and bidi overrides, and replaces invalid UTF-8.
func oneLine(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case unicode.IsControl(r), r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
			// Bidi embeddings and overrides can make a subject line read backwards.
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r) // utf8.RuneError for invalid bytes, written as U+FFFD
	}
	return b.String()
}

// truncate cuts s to at most max runes and marks the cut with "…". The cut falls at a
// word boundary: between ideographs in CJK text, else at the last space, so never inside
// a URL (one that does not fit is left out whole); only a text that is a single word
// longer than max is cut inside it.
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	all := []rune(s)
	head := string(all[:max-1]) // room for the ellipsis
	if all[max-1] != ' ' && !isIdeograph(all[max-2]) && !isIdeograph(all[max-1]) {
		if sp := strings.LastIndexByte(head, ' '); sp > 0 {
			head = head[:sp] // before the word that does not fit, a URL included
		}
	}
	return strings.TrimRight(head, " ,;:.-–—·") + "…"
}

func isIdeograph(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)
}

// absoluteURL resolves ref against base and returns it when it is an absolute http(s)
// URL with a host, the host lower-cased. Surrounding white space is ignored, as
// browsers do.
func absoluteURL(ref string, base *url.URL) (*url.URL, bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, false
	}
	u, err := url.Parse(ref)
	if err != nil {
		return nil, false
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, false
	}
	u.Host = strings.ToLower(u.Host)
	return u, true
}

// canonicalURL is the form stories are keyed by: link (an absoluteURL) with the default
// port, user info and fragment dropped, and campaign-tracking query parameters removed.
// Other parameters keep their order.
func canonicalURL(link *url.URL) string {
	u := *link
	if port := u.Port(); port == "80" && u.Scheme == "http" || port == "443" && u.Scheme == "https" {
		u.Host = strings.TrimSuffix(u.Host, ":"+port)
	}
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	u.RawQuery = stripTracking(u.RawQuery)
	u.ForceQuery = false
	if u.Path == "" && u.RawPath == "" && u.Opaque == "" {
		u.Path = "/"
	}
	return u.String()
}

// stripTracking drops utm_*, mc_* (Mailchimp), fbclid and gclid from a raw query.
func stripTracking(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	var kept []string
	for part := range strings.SplitSeq(rawQuery, "&") {
		if part == "" {
			continue
		}
		key, _, _ := strings.Cut(part, "=")
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		key = strings.ToLower(key)
		if strings.HasPrefix(key, "utm_") || strings.HasPrefix(key, "mc_") || key == "fbclid" || key == "gclid" {
			continue
		}
		kept = append(kept, part)
	}
	return strings.Join(kept, "&")
}
