package render

// PublicHTML fills an issue's placeholders for a copy anyone may read (the archive): no
// subscriber's address, and an unsubscribe link that goes nowhere.
func PublicHTML(html string) string {
	out, _ := Email{HTML: html}.Personalize(Recipient{Email: "a subscriber", UnsubscribeURL: "#"})
	return out
}
