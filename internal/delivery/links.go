package delivery

import "newsletter/internal/newsletter"

// UnsubscribeURL is the unsubscribe link sub's message carries, in its body and its
// List-Unsubscribe header.
func (s *Sender) UnsubscribeURL(sub newsletter.Subscriber) string {
	return newsletter.UnsubscribeURL(s.opt.Identity.BaseURL, s.opt.Token(sub))
}
