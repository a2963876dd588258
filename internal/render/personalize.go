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
	t, h := rc.Fills()
	return fill(e.HTML, h[0], h[1]), fill(e.Text, t[0], t[1])
}

// PublicHTML fills an issue's placeholders for a copy anyone may read (the archive): no
// subscriber's address, and an unsubscribe link that goes nowhere.
func PublicHTML(page string) string {
	out, _ := Email{HTML: page}.Personalize(Recipient{Email: "a subscriber", UnsubscribeURL: "#"})
	return out
}

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
// in the HTML part (for element text and quoted attributes alike: the URL goes in an href).
func (rc Recipient) Fills() (text, escaped []string) {
	return []string{rc.UnsubscribeURL, rc.Email}, []string{html.EscapeString(rc.UnsubscribeURL), html.EscapeString(rc.Email)}
}
