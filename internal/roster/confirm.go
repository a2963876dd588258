package roster

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"strings"
	texttemplate "text/template"
	"time"

	"newsletter/internal/mailer"
	"newsletter/internal/newsletter"
)

// MailConfirmations sends confirmation messages through a mailer.Transport, one
// connection per message (sign-ups are rare and must not hold a connection open).
type MailConfirmations struct {
	opt  MailOptions
	text *texttemplate.Template
	html *htmltemplate.Template
}

type confirmData struct {
	Publication, WebsiteURL, PostalAddress, Accent, Lang string
	Name, Email, Link, Expires                           string
}

// MailOptions configure NewMailConfirmations.
type MailOptions struct {
	Transport       mailer.Transport
	From            mailer.Address
	ReplyTo         string
	EnvelopeFrom    string
	MessageIDDomain string
	Publication     newsletter.Publication // its name, website, postal address, accent and language
	Location        *time.Location         // for the expiry time in the message
	Templates       fs.FS                  // holds confirm/confirm.txt.tmpl and confirm/confirm.html.tmpl
	Now             func() time.Time
}

// NewMailConfirmations parses the templates.
func NewMailConfirmations(opt MailOptions) (*MailConfirmations, error) {
	text, err := texttemplate.ParseFS(opt.Templates, "confirm/confirm.txt.tmpl")
	if err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	html, err := htmltemplate.ParseFS(opt.Templates, "confirm/confirm.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	opt.Location = cmp.Or(opt.Location, time.UTC)
	opt.Publication.Language = cmp.Or(opt.Publication.Language, "en")
	return &MailConfirmations{opt: opt, text: text, html: html}, nil
}

// SendConfirmation implements Confirmations.
func (m *MailConfirmations) SendConfirmation(ctx context.Context, sub newsletter.Subscriber, link string, expires time.Time) error {
	now, pub := m.opt.Now(), m.opt.Publication
	data := confirmData{
		Publication: pub.Name, WebsiteURL: pub.WebsiteURL, PostalAddress: pub.PostalAddress,
		Accent: pub.AccentColor, Lang: pub.Language,
		Name: sub.Name, Email: sub.Email, Link: link,
		Expires: expires.In(m.opt.Location).Format("Monday 2 January 2006, 15:04 MST"),
	}
	var text, html bytes.Buffer
	if err := m.text.Execute(&text, data); err != nil {
		return fmt.Errorf("roster: confirmation text: %w", err)
	}
	if err := m.html.Execute(&html, data); err != nil {
		return fmt.Errorf("roster: confirmation html: %w", err)
	}
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	msg := mailer.Message{
		From:         m.opt.From,
		To:           mailer.Address{Name: sub.Name, Email: sub.Email},
		ReplyTo:      m.opt.ReplyTo,
		EnvelopeFrom: m.opt.EnvelopeFrom,
		Subject:      "Confirm your subscription to " + pub.Name,
		Date:         now,
		MessageID:    fmt.Sprintf("confirm.%d.%s@%s", sub.ID, hex.EncodeToString(nonce[:]), m.opt.MessageIDDomain),
		Headers:      []mailer.Header{{Name: "Auto-Submitted", Value: "auto-generated"}},
		Text:         strings.ReplaceAll(text.String(), "\r\n", "\n"),
		HTML:         html.String(),
	}
	sender, err := m.opt.Transport.Open(ctx)
	if err != nil {
		return err
	}
	_, err = sender.Send(ctx, msg)
	if cerr := sender.Close(); err == nil {
		err = cerr
	}
	return err
}
