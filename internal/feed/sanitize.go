package feed

import (
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// policy is the allowlist every piece of feed HTML passes through last. It is built once
// and never changed afterwards; bluemonday documents a built policy as safe for use by
// many goroutines, so this is a constant in all but syntax.
var policy = newPolicy()

func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements(slices.Collect(maps.Keys(kept))...)
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("rel").Matching(regexp.MustCompile(`^noopener$`)).OnElements("a")
	p.AllowAttrs("src", "alt").OnElements("img")
	p.AllowAttrs("width", "height").Matching(regexp.MustCompile(`^[0-9]{1,4}$`)).OnElements("img")
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	return p
}

// Sanitize returns HTML safe to place in an email. Only ordinary text markup survives
// (p, br, a, strong, em, b, i, ul, ol, li, blockquote, h2–h4, img, figure, figcaption,
// code, pre); scripts, styles, frames, embeds and forms go with their content; other
// elements are unwrapped, keeping their text. Links and images are resolved against base
// (nil: relative ones are dropped): a link that is not http(s) or mailto loses its <a> but
// keeps its text, links get rel="noopener", and an image without an http(s) source or that
// looks like a tracking pixel (see isTracker) is removed. "javascript:" and "vbscript:"
// left in text have their colon written as &#58;. The same input always gives the same
// output.
func Sanitize(s string, base *url.URL) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(s), body)
	if err != nil {
		// The parser only fails on reader errors, which a strings.Reader has none of.
		return ""
	}
	for _, n := range nodes {
		body.AppendChild(n)
	}
	clean(body, base)
	var b strings.Builder
	for c := body.FirstChild; c != nil; c = c.NextSibling {
		if err := html.Render(&b, c); err != nil {
			return ""
		}
	}
	// bluemonday has the last word: whatever the tree walk above missed, the allowlist
	// still stops.
	out := policy.Sanitize(b.String())
	// No link or image can carry these schemes any more, but the words themselves may
	// still be there as text (an article about XSS) or inside an attribute value. Writing
	// the colon as a character reference reads the same and keeps naive filters further
	// down the line, and spam scorers, from seeing a script URL.
	out = scriptSchemes.ReplaceAllString(out, "$1&#58;")
	return strings.TrimSpace(out)
}

var scriptSchemes = regexp.MustCompile(`(?i)(javascript|vbscript):`)

// dropped elements go with everything inside them: they are active content, or
// controls and media an email cannot use.
var dropped = map[string]bool{
	"script": true, "style": true, "iframe": true, "frame": true, "frameset": true,
	"object": true, "embed": true, "applet": true, "form": true, "input": true, "button": true,
	"select": true, "textarea": true, "noscript": true, "template": true, "svg": true,
	"math": true, "link": true, "meta": true, "base": true, "title": true, "head": true,
	"audio": true, "video": true, "source": true, "track": true, "canvas": true, "map": true,
	"area": true, "param": true, "dialog": true, "portal": true,
}

// kept elements are the allowlist, the tree walk's and bluemonday's; renamed ones fold into it.
var (
	kept = map[string]bool{
		"p": true, "br": true, "a": true, "strong": true, "em": true, "b": true, "i": true,
		"ul": true, "ol": true, "li": true, "blockquote": true, "h2": true, "h3": true,
		"h4": true, "img": true, "figure": true, "figcaption": true, "code": true, "pre": true,
	}
	renamed = map[string]string{"h1": "h2", "h5": "h4", "h6": "h4"}
)

// clean rewrites the children of n in place.
func clean(n *html.Node, base *url.URL) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		switch c.Type {
		case html.TextNode:
		case html.ElementNode:
			cleanElement(c, base)
		default: // comments, doctypes
			n.RemoveChild(c)
		}
		c = next
	}
}

func cleanElement(c *html.Node, base *url.URL) {
	parent := c.Parent
	name := c.Data
	if c.Namespace != "" || dropped[name] {
		parent.RemoveChild(c)
		return
	}
	if to, ok := renamed[name]; ok {
		name, c.Data, c.DataAtom = to, to, atom.Lookup([]byte(to))
	}
	clean(c, base)
	if !kept[name] {
		unwrap(c, separator(name) != sepNone)
		return
	}
	switch name {
	case "a":
		href, ok := linkTarget(attr(c, "href"), base)
		if !ok {
			unwrap(c, false)
			return
		}
		c.Attr = []html.Attribute{{Key: "href", Val: href}, {Key: "rel", Val: "noopener"}}
	case "img":
		src := attr(c, "src")
		if lazy := attr(c, "data-src"); lazy != "" && (src == "" || strings.HasPrefix(strings.TrimSpace(src), "data:")) {
			// Lazy-loading themes put a placeholder in src and the picture in data-src.
			src = lazy
		}
		u, ok := absoluteURL(src, base)
		if !ok || isTracker(c, u) {
			parent.RemoveChild(c)
			return
		}
		attrs := []html.Attribute{{Key: "src", Val: u.String()}}
		for _, k := range []string{"alt", "width", "height"} {
			if v, ok := lookupAttr(c, k); ok {
				attrs = append(attrs, html.Attribute{Key: k, Val: v})
			}
		}
		c.Attr = attrs
	default:
		c.Attr = nil
	}
}

// unwrap replaces n by its children, already cleaned. A block element leaves a space on
// each side so that the words of neighbouring blocks do not run together.
func unwrap(n *html.Node, block bool) {
	parent := n.Parent
	if block {
		parent.InsertBefore(&html.Node{Type: html.TextNode, Data: " "}, n)
	}
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		n.RemoveChild(c)
		parent.InsertBefore(c, n)
		c = next
	}
	if block {
		parent.InsertBefore(&html.Node{Type: html.TextNode, Data: " "}, n)
	}
	parent.RemoveChild(n)
}

// linkTarget resolves an href: absolute http(s) against base, or a mailto: address.
func linkTarget(href string, base *url.URL) (string, bool) {
	if u, ok := absoluteURL(href, base); ok {
		return u.String(), true
	}
	if u, err := url.Parse(strings.TrimSpace(href)); err == nil && u.Scheme == "mailto" && u.Opaque != "" {
		return u.String(), true
	}
	return "", false
}

// Tracking pixels are recognised by a deliberately short list of signs, enough for the
// common feed services without guessing at every ad network:
//   - width or height of 2 pixels or less;
//   - a host under a known tracker domain, or with a label such as "pixel" or "stats";
//   - a path segment named track, tracker, tracking or pixel, with or without an
//     extension (/track/open, /pixel.gif).
var (
	trackerDomains = []string{"feedburner.com", "doubleclick.net", "google-analytics.com",
		"googletagmanager.com", "facebook.com", "quantserve.com", "scorecardresearch.com",
		"feedblitz.com", "feedsportal.com"}
	trackerLabels = map[string]bool{"pixel": true, "pixels": true, "stats": true, "track": true, "tracking": true}
	trackerPaths  = map[string]bool{"track": true, "tracker": true, "tracking": true, "pixel": true}
)

func isTracker(img *html.Node, src *url.URL) bool {
	for _, k := range []string{"width", "height"} {
		if v, ok := lookupAttr(img, k); ok {
			if n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), "px")); err == nil && n <= 2 {
				return true
			}
		}
	}
	host := strings.ToLower(src.Hostname())
	for _, d := range trackerDomains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	for label := range strings.SplitSeq(host, ".") {
		if trackerLabels[label] {
			return true
		}
	}
	for seg := range strings.SplitSeq(strings.ToLower(src.Path), "/") {
		name, _, _ := strings.Cut(seg, ".")
		if trackerPaths[name] {
			return true
		}
	}
	return false
}

func attr(n *html.Node, key string) string {
	v, _ := lookupAttr(n, key)
	return v
}

func lookupAttr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}
