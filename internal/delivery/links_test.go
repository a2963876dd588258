package delivery_test

import (
	"strings"
	"testing"

	"newsletter/internal/mailer"
)

// TestUnsubscribeURLIsTheMessagesLink checks that the link the editors' preview shows is
// the one each message carries, in its List-Unsubscribe header and its body.
func TestUnsubscribeURLIsTheMessagesLink(t *testing.T) {
	f := setup(t, 2)
	s := f.sender(&mailer.Outbox{Dir: t.TempDir()}, 1)
	for _, sub := range f.subs {
		u := s.UnsubscribeURL(sub)
		if !strings.Contains(u, "/unsubscribe/") {
			t.Fatalf("UnsubscribeURL = %q, not an unsubscribe link", u)
		}
		msg := s.Message(f.issue, f.email, sub)
		var header string
		for _, h := range msg.Headers {
			if h.Name == "List-Unsubscribe" {
				header = h.Value
			}
		}
		if !strings.HasPrefix(header, "<"+u+">") {
			t.Errorf("%s: List-Unsubscribe %q does not start with <%s>", sub.Email, header, u)
		}
		if !strings.Contains(msg.Text, u) {
			t.Errorf("%s: the text body does not carry %s", sub.Email, u)
		}
	}
}
