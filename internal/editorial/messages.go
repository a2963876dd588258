package editorial

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"newsletter/internal/delivery"
	"newsletter/internal/newsletter"
	"newsletter/internal/render"
)

// PreviewReader is who a preview is addressed to: nobody on the list, so that the headers
// pane names no subscriber and its unsubscribe link, signed for no one, changes nothing
// when an editor follows it.
func PreviewReader() newsletter.Subscriber {
	return newsletter.Subscriber{Email: "reader@example.com", Name: "Sample Reader"}
}

// SenderMessages are the desk's Messages built and sent by the delivery engine, so that a
// preview or a test is exactly what subscribers get.
type SenderMessages struct {
	Sender *delivery.Sender
}

// Sample implements Messages: the message PreviewReader would get.
func (m SenderMessages) Sample(_ context.Context, is newsletter.Issue, email render.Email) (Message, error) {
	reader := PreviewReader()
	msg := m.Sender.Message(is, email, reader)
	var eml bytes.Buffer
	if _, err := msg.WriteTo(&eml); err != nil {
		return Message{}, fmt.Errorf("editorial: sample message: %w", err)
	}
	headers, _, _ := strings.Cut(eml.String(), "\r\n\r\n")
	return Message{Subject: msg.Subject, HTML: msg.HTML, Text: msg.Text, Headers: headers,
		UnsubscribeURL: m.Sender.UnsubscribeURL(reader)}, nil
}

// SendTest implements Messages through the engine's test path, so that each copy has a
// Message-ID of its own: copies sharing one overwrite each other in the outbox and are
// dropped as repeats by Gmail.
func (m SenderMessages) SendTest(ctx context.Context, is newsletter.Issue, email render.Email, to []string) error {
	results, err := m.Sender.SendTest(ctx, is, email, to)
	var failed []error
	for _, r := range results {
		if r.Err != nil {
			failed = append(failed, fmt.Errorf("test send to %s: %w", r.Email, r.Err))
		}
	}
	return errors.Join(append(failed, err)...) // Join drops a nil err
}
