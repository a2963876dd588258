package feed

import (
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

// blockElements end a run of words: their tags become spaces so "<p>a</p><p>b</p>" reads "a b".
var blockElements = map[string]bool{
	"address": true, "article": true, "aside": true, "blockquote": true, "br": true, "dd": true,
	"div": true, "dl": true, "dt": true, "figcaption": true, "figure": true, "footer": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "header": true,
	"hr": true, "li": true, "main": true, "nav": true, "ol": true, "p": true, "pre": true,
	"section": true, "table": true, "td": true, "th": true, "tr": true, "ul": true, "img": true,
}

// plainText returns the visible text of an HTML fragment on one line: tags dropped,
// entities decoded, control characters removed and white space collapsed. Feed titles,
// names and categories all go through it; the single line is what keeps them safe in
// an email header (no CR/LF can survive).
func plainText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return oneLine(s)
	}
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	hidden := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return oneLine(b.String())
		case html.TextToken:
			if hidden == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken:
			name, _ := z.TagName()
			if hiddenText[string(name)] {
				hidden++
			}
			if blockElements[string(name)] {
				b.WriteByte(' ')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if hiddenText[string(name)] && hidden > 0 {
				hidden--
			}
			if blockElements[string(name)] {
				b.WriteByte(' ')
			}
		case html.SelfClosingTagToken:
			if name, _ := z.TagName(); blockElements[string(name)] {
				b.WriteByte(' ')
			}
		}
	}
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

// truncate cuts s to at most max runes, at a word boundary when there is one, and
// marks the cut with "…".
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	all := []rune(s)
	r := all[:max-1] // room for the ellipsis
	cut := len(r)
	if all[cut] != ' ' {
		for i := len(r) - 1; i > len(r)/2; i-- {
			if r[i] == ' ' {
				cut = i
				break
			}
		}
	}
	out := strings.TrimRight(string(r[:cut]), " ,;:.-–—")
	return out + "…"
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

// canonicalURL resolves ref against base into the form stories are keyed by: absolute
// http(s), scheme and host lower-cased, default port, user info and fragment dropped,
// and campaign-tracking query parameters removed. Other parameters keep their order.
func canonicalURL(ref string, base *url.URL) (string, bool) {
	u, ok := absoluteURL(ref, base)
	if !ok {
		return "", false
	}
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
	return u.String(), true
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
