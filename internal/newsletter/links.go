package newsletter

import "strings"

// UnsubscribePath is where a subscriber's unsubscribe page lives, followed by their signed
// token: the link in every issue, the List-Unsubscribe header and the web route.
const UnsubscribePath = "/unsubscribe/"

// UnsubscribeURL is the unsubscribe link of a token under baseURL (with or without a
// trailing slash).
func UnsubscribeURL(baseURL, token string) string {
	return strings.TrimRight(baseURL, "/") + UnsubscribePath + token
}

// UnsubscribeToken returns the token of an unsubscribe URL's path: the one segment after
// UnsubscribePath; ok is false for any other path.
func UnsubscribeToken(path string) (token string, ok bool) {
	_, tok, found := strings.Cut(path, UnsubscribePath)
	if !found || tok == "" || strings.Contains(tok, "/") {
		return "", false
	}
	return tok, true
}
