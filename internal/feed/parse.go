package feed

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
	jsonfeed "github.com/mmcdole/gofeed/json"
	xhtml "golang.org/x/net/html"

	"newsletter/internal/newsletter"
)

// ErrNotFeed is returned (wrapped) when a document is not RSS, Atom or JSON Feed at all.
var ErrNotFeed = errors.New("not an RSS, Atom or JSON feed")

// Limits on the plain-text fields, in characters. Titles end up in subject lines and
// names in bylines; a hostile feed must not be able to fill either.
const (
	maxSummary    = 300
	maxTitle      = 200
	maxLabel      = 100 // author, category, image alt
	maxCategories = 20
	wordsPerMin   = 230
)

// Parse parses a feed document of any of the three formats, in feed order. base resolves
// relative links; when nil the feed's own link is used. Stories without a usable http(s)
// link are skipped. FeedURL and the validators are left empty.
func Parse(r io.Reader, base *url.URL) (Result, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Result{}, fmt.Errorf("read: %w", err)
	}
	kind := gofeed.DetectFeedType(bytes.NewReader(data))
	if kind == gofeed.FeedTypeUnknown {
		return Result{}, notFeed(data)
	}
	var res Result
	if kind != gofeed.FeedTypeJSON {
		data, res.Removed = stripForbiddenXML(data)
	}

	p := gofeed.NewParser()
	// The image scan of gofeed would pick up tracking pixels; Parse looks for the first
	// image in the sanitised content instead.
	p.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
	p.KeepOriginalFeed = true // for JSON Feed's version and content_text
	f, err := p.Parse(bytes.NewReader(data))
	if err != nil {
		return Result{}, fmt.Errorf("malformed %s feed: %w", kindName(kind), err)
	}
	jf, _ := f.OriginalFeed().(*jsonfeed.Feed)
	if kind == gofeed.FeedTypeJSON && (jf == nil || !strings.Contains(jf.Version, "jsonfeed.org/version/")) {
		return Result{}, fmt.Errorf("%w: JSON without a jsonfeed.org version", ErrNotFeed)
	}

	feedBase := base
	if feedBase == nil {
		if u, ok := absoluteURL(f.Link, nil); ok {
			feedBase = u
		}
	}
	for i, it := range f.Items {
		contentText := ""
		if jf != nil && i < len(jf.Items) && jf.Items[i].ContentHTML == "" {
			contentText = jf.Items[i].ContentText
		}
		if s, ok := story(f, it, feedBase, contentText); ok {
			res.Stories = append(res.Stories, s)
		}
	}
	res.Title = truncate(plainText(f.Title), maxTitle)
	return res, nil
}

// charRef matches a numeric character reference.
var charRef = regexp.MustCompile(`&#([xX][0-9a-fA-F]{1,8}|[0-9]{1,10});`)

// stripForbiddenXML removes what XML 1.0 forbids in a document (§2.2): raw control
// characters other than tab, LF and CR, and character references to them or to
// surrogates, U+FFFE, U+FFFF and beyond U+10FFFF. One "&#7;" would otherwise reject the
// whole feed ("illegal character code U+0007") and lose its good stories; lenient readers
// drop such characters the same way. It returns the data and how many it removed;
// UTF-16 documents (a byte-order mark) are left alone.
func stripForbiddenXML(data []byte) ([]byte, int) {
	if bytes.HasPrefix(data, []byte{0xfe, 0xff}) || bytes.HasPrefix(data, []byte{0xff, 0xfe}) {
		return data, 0
	}
	forbidden := func(c byte) bool { return !xmlChar(rune(c)) } // bytes of multi-byte runes pass
	out := data
	if slices.ContainsFunc(data, forbidden) {
		out = slices.DeleteFunc(slices.Clone(data), forbidden)
	}
	removed := len(data) - len(out)
	if bytes.Contains(out, []byte("&#")) {
		out = charRef.ReplaceAllFunc(out, func(ref []byte) []byte {
			num := string(ref[2 : len(ref)-1])
			base := 10
			if num[0] == 'x' || num[0] == 'X' {
				num, base = num[1:], 16
			}
			n, err := strconv.ParseUint(num, base, 32)
			if err != nil || !xmlChar(rune(n)) {
				removed++
				return nil
			}
			return ref
		})
	}
	return out, removed
}

// xmlChar reports a character XML 1.0 allows (the Char production).
func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || 0x20 <= r && r <= 0xd7ff ||
		0xe000 <= r && r <= 0xfffd || 0x10000 <= r && r <= 0x10ffff
}

func kindName(kind gofeed.FeedType) string {
	switch kind {
	case gofeed.FeedTypeAtom:
		return "Atom"
	case gofeed.FeedTypeJSON:
		return "JSON"
	default:
		return "RSS"
	}
}

// notFeed explains what the document looked like, for the common mistake of giving the
// site's home page instead of its feed.
func notFeed(data []byte) error {
	head := bytes.ToLower(bytes.TrimSpace(data[:min(len(data), 1024)]))
	switch {
	case len(head) == 0:
		return fmt.Errorf("%w: empty document", ErrNotFeed)
	case bytes.HasPrefix(head, []byte("<!doctype html")) || bytes.Contains(head, []byte("<html")):
		return fmt.Errorf("%w: got an HTML page (is this the site rather than its feed?)", ErrNotFeed)
	case bytes.HasPrefix(head, []byte("<")):
		return fmt.Errorf("%w: XML without an rss, rdf or feed root element (or it is cut short)", ErrNotFeed)
	}
	return fmt.Errorf("%w: unrecognised document", ErrNotFeed)
}

// story turns one item into a story; false means the item is skipped.
func story(f *gofeed.Feed, it *gofeed.Item, feedBase *url.URL, contentText string) (newsletter.Story, bool) {
	rawTitle := plainText(it.Title)
	link := itemLink(it, feedBase)
	if link == nil {
		return newsletter.Story{}, false
	}
	canonical := canonicalURL(link)

	// Relative links in the content are relative to the article page, where the
	// content was written to be read.
	body := it.Content
	if contentText != "" {
		body = textToHTML(contentText)
	}
	full := strings.TrimSpace(body) != "" // the article itself, not only its teaser
	if !full {
		body = it.Description
	}
	content := Sanitize(body, link)

	dek := plainText(it.Description)
	if dek == "" {
		dek = plainText(content)
	}
	// A reading time is given only for the full text: one computed from a teaser would
	// say "1 min read" of every story. Content no longer than the description is a teaser too.
	words := 0
	if full {
		words = len(strings.Fields(plainText(content)))
		if words <= len(strings.Fields(dek)) && it.Description != "" {
			words = 0
		}
	}

	s := newsletter.Story{
		GUID:        oneLine(it.GUID),
		URL:         canonical,
		Title:       truncate(rawTitle, maxTitle),
		Summary:     truncate(dek, maxSummary),
		ContentHTML: content,
		Author:      truncate(author(f, it), maxLabel),
		ReadMinutes: readMinutes(words),
	}
	s.GUID = cmp.Or(s.GUID, canonical)
	if s.Title == "" {
		// Microblog items have no title; their opening words stand in for one.
		s.Title = cmp.Or(truncate(dek, 80), canonical)
	}
	s.Categories = categories(it.Categories)
	if len(s.Categories) > 0 {
		s.Section = s.Categories[0]
	}
	s.ImageURL, s.ImageAlt = image(it, link, content)
	if s.ImageURL != "" && s.ImageAlt == "" {
		s.ImageAlt = s.Title
	}
	switch {
	case it.PublishedParsed != nil:
		s.Published = it.PublishedParsed.UTC()
	case it.UpdatedParsed != nil:
		s.Published = it.UpdatedParsed.UTC()
	}
	return s, true
}

// itemLink is the item's link resolved against the feed: its own link, then any
// other link it lists, then a GUID that is itself a URL (RSS guids are permalinks
// unless they say otherwise).
func itemLink(it *gofeed.Item, base *url.URL) *url.URL {
	refs := append([]string{it.Link}, it.Links...)
	if strings.HasPrefix(it.GUID, "http://") || strings.HasPrefix(it.GUID, "https://") {
		refs = append(refs, it.GUID)
	}
	for _, ref := range refs {
		if strings.TrimSpace(ref) == "" {
			// Resolving "" would give the base itself, the feed, which is not the item.
			continue
		}
		if u, ok := absoluteURL(ref, base); ok {
			return u
		}
	}
	return nil
}

// author names the item's authors, joined by commas. RSS prefers dc:creator, which
// holds a name, over <author>, which should hold an e-mail address. Atom entries and
// JSON Feed items without an author inherit the feed's (RFC 4287 4.2.1, JSON Feed 1.1).
func author(f *gofeed.Feed, it *gofeed.Item) string {
	var names []string
	if it.DublinCoreExt != nil {
		names = append(names, it.DublinCoreExt.Creator...)
	}
	if len(names) == 0 {
		for _, p := range it.Authors {
			names = append(names, p.Name)
		}
	}
	if len(names) == 0 && f.FeedType != "rss" {
		for _, p := range f.Authors {
			names = append(names, p.Name)
		}
	}
	return strings.Join(dedupe(names, len(names)), ", ")
}

// categories cleans the item's categories and drops repeats, ignoring case.
func categories(raw []string) []string {
	out := dedupe(raw, maxCategories)
	for i := range out {
		out[i] = truncate(out[i], maxLabel)
	}
	return out
}

// dedupe returns up to max of the non-empty plain-text values, first spelling wins.
func dedupe(raw []string, max int) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range raw {
		v := plainText(r)
		k := strings.ToLower(v)
		if v == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, v)
		if len(out) == max {
			break
		}
	}
	return out
}

func readMinutes(words int) int {
	if words == 0 {
		return 0 // unknown, as newsletter.Story allows
	}
	return max(1, int(math.Ceil(float64(words)/wordsPerMin)))
}

// textToHTML turns JSON Feed content_text into paragraphs: blank lines separate
// paragraphs and single newlines become <br>.
func textToHTML(text string) string {
	var b strings.Builder
	for para := range strings.SplitSeq(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if para = strings.TrimSpace(para); para != "" {
			b.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(para), "\n", "<br>") + "</p>")
		}
	}
	return b.String()
}

// image picks the story's picture: media:content that is an image, media:thumbnail,
// an image enclosure, gofeed's own pick (JSON Feed image or banner_image, iTunes image),
// then the first image in the sanitised content. The first that is an absolute http(s)
// URL wins; relative ones resolve against the item's link.
func image(it *gofeed.Item, link *url.URL, content string) (src, alt string) {
	type candidate struct{ src, alt string }
	var cands []candidate

	media := it.Extensions["media"]
	itemAlt := firstValue(media, "description", "title")
	contents := media["content"]
	thumbs := media["thumbnail"]
	for _, g := range media["group"] {
		contents = append(contents, g.Children["content"]...)
		thumbs = append(thumbs, g.Children["thumbnail"]...)
	}
	for _, c := range contents {
		if isImage(c) {
			alt := cmp.Or(firstValue(c.Children, "description", "title"), itemAlt)
			cands = append(cands, candidate{c.Attrs["url"], alt})
		}
		thumbs = append(thumbs, c.Children["thumbnail"]...)
	}
	for _, t := range thumbs {
		cands = append(cands, candidate{t.Attrs["url"], itemAlt})
	}
	for _, e := range it.Enclosures {
		if strings.HasPrefix(strings.ToLower(e.Type), "image/") {
			cands = append(cands, candidate{e.URL, ""})
		}
	}
	if it.Image != nil {
		cands = append(cands, candidate{it.Image.URL, it.Image.Title})
	}
	if img := firstImg(content); img != nil {
		cands = append(cands, candidate{attr(img, "src"), attr(img, "alt")})
	}

	for _, c := range cands {
		if u, ok := absoluteURL(c.src, link); ok {
			return u.String(), truncate(plainText(c.alt), maxLabel)
		}
	}
	return "", ""
}

// isImage reports whether a media:content element is a picture: by medium, by MIME
// type, or, when it declares neither, by the file extension.
func isImage(c ext.Extension) bool {
	medium, typ := c.Attrs["medium"], strings.ToLower(c.Attrs["type"])
	if medium != "" || typ != "" {
		return medium == "image" || strings.HasPrefix(typ, "image/")
	}
	u, err := url.Parse(c.Attrs["url"])
	if err != nil {
		return false
	}
	switch strings.ToLower(path.Ext(u.Path)) {
	case ".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif":
		return true
	}
	return false
}

// firstValue returns the text of the first of the named extension elements present.
func firstValue(m map[string][]ext.Extension, names ...string) string {
	for _, n := range names {
		for _, e := range m[n] {
			if v := strings.TrimSpace(e.Value); v != "" {
				return v
			}
		}
	}
	return ""
}

// firstImg finds the first <img> of an HTML fragment.
func firstImg(fragment string) *xhtml.Node {
	if !strings.Contains(fragment, "<img") {
		return nil
	}
	doc, err := xhtml.Parse(strings.NewReader(fragment))
	if err != nil {
		return nil
	}
	for n := range doc.Descendants() {
		if n.Type == xhtml.ElementNode && n.Data == "img" {
			return n
		}
	}
	return nil
}
