package render

import (
	"html"
	"strings"
)

// Recipient is what differs per subscriber.
type Recipient struct{ Email, UnsubscribeURL string }

// Personalize fills the placeholders: HTML-escaped into HTML, raw into Text. It neither parses nor
// inlines, so it is cheap enough to run once per subscriber, and it works on an Email rebuilt from
// an issue's saved HTML and Text.
func (e Email) Personalize(rc Recipient) (html, text string) {
	return fill(e.HTML, escapeHTML(rc.UnsubscribeURL), escapeHTML(rc.Email)),
		fill(e.Text, rc.UnsubscribeURL, rc.Email)
}

// escapeHTML escapes for both element text and quoted attribute values; the unsubscribe URL goes in an href.
func escapeHTML(s string) string { return html.EscapeString(s) }

// fill replaces each placeholder in s, scanning for the shared prefix with strings.Index: faster
// on a whole message than a general strings.Replacer, and needing nothing precomputed.
func fill(s, unsubscribeURL, email string) string {
	n := strings.Count(s, placeholderPrefix)
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + n*max(len(unsubscribeURL), len(email)))
	for {
		i := strings.Index(s, placeholderPrefix)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i:]
		switch {
		case strings.HasPrefix(s, PlaceholderUnsubscribeURL):
			b.WriteString(unsubscribeURL)
			s = s[len(PlaceholderUnsubscribeURL):]
		case strings.HasPrefix(s, PlaceholderEmail):
			b.WriteString(email)
			s = s[len(PlaceholderEmail):]
		default:
			b.WriteString(placeholderPrefix)
			s = s[len(placeholderPrefix):]
		}
	}
}

// Placeholders are the strings Personalize replaces, in the order of Recipient.Fills: for a
// body prepared once per issue and completed per recipient.
func Placeholders() []string {
	return []string{PlaceholderUnsubscribeURL, PlaceholderEmail}
}

// Fills returns what replaces each of Placeholders for rc: raw in the text part, HTML-escaped
// in the HTML part, as Personalize does.
func (rc Recipient) Fills() (text, html []string) {
	return []string{rc.UnsubscribeURL, rc.Email}, []string{escapeHTML(rc.UnsubscribeURL), escapeHTML(rc.Email)}
}
