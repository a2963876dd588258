package editorial

import (
	"context"
	"fmt"
	"time"

	"newsletter/internal/mailer"
)

// Notice mails the editors' address what needs them: a scheduled send held for approval,
// an issue's complaints over the line. It implements daemon.Notifier.
type Notice struct {
	Transport mailer.Transport
	From      mailer.Address
	// To is editorial.editors_email.
	To string
	// MessageIDDomain is the right-hand side of the notice's Message-ID.
	MessageIDDomain string
	Now             func() time.Time
}

// Notify sends one plain-text notice, marked Auto-Submitted so that no auto-responder
// answers it (RFC 3834).
func (n *Notice) Notify(ctx context.Context, subject, body string) error {
	conn, err := n.Transport.Open(ctx)
	if err != nil {
		return fmt.Errorf("editorial: notice: %w", err)
	}
	defer conn.Close()
	now := n.Now()
	if _, err := conn.Send(ctx, mailer.Message{
		From:      n.From,
		To:        mailer.Address{Email: n.To},
		Subject:   subject,
		Date:      now,
		MessageID: fmt.Sprintf("notice.%d@%s", now.UnixNano(), n.MessageIDDomain),
		Headers:   []mailer.Header{{Name: "Auto-Submitted", Value: "auto-generated"}},
		Text:      body,
	}); err != nil {
		return fmt.Errorf("editorial: notice to %s: %w", n.To, err)
	}
	return nil
}
