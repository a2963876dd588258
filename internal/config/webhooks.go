package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
)

// Webhooks are the providers' bounce and complaint webhooks serve takes at
// POST /webhooks/{ses,postmark,sendgrid,mailgun}; one without its secret answers 404.
type Webhooks struct {
	SES      SESWebhook      `yaml:"ses"`
	Postmark PostmarkWebhook `yaml:"postmark"`
	SendGrid SendGridWebhook `yaml:"sendgrid"`
	Mailgun  MailgunWebhook  `yaml:"mailgun"`
}

// SESWebhook takes Amazon SES notifications through an SNS HTTPS subscription.
type SESWebhook struct {
	Enabled bool `yaml:"enabled"`
	// TopicARN is the only SNS topic accepted, required with Enabled: SNS signs the
	// messages of every AWS account's topics alike.
	TopicARN string `yaml:"topic_arn"`
}

// PostmarkWebhook is authenticated by the HTTP Basic credentials in the webhook's URL.
type PostmarkWebhook struct {
	User     string `yaml:"user"`
	Password string `yaml:"password"`
}

// SendGridWebhook is the Signed Event Webhook: PublicKey is its verification key.
type SendGridWebhook struct {
	PublicKey string `yaml:"public_key"`
}

// MailgunWebhook is checked with the account's HTTP webhook signing key.
type MailgunWebhook struct {
	SigningKey string `yaml:"signing_key"`
}

var topicARN = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)

// rules check the webhooks' settings.
func (w *Webhooks) rules() []rule {
	p, k := w.Postmark, w.Mailgun.SigningKey
	off := p.User == "" && p.Password == ""
	return []rule{
		{"bounces.webhooks.ses.topic_arn", unless(!w.SES.Enabled || w.SES.TopicARN != "",
			"is required with ses.enabled: SNS signs every AWS account's topics alike, so the topic says the notifications are yours")},
		{"bounces.webhooks.ses.topic_arn", unless(w.SES.TopicARN == "" || topicARN.MatchString(w.SES.TopicARN),
			"%q is not an SNS topic ARN like arn:aws:sns:us-east-1:123456789012:ses-feedback", w.SES.TopicARN)},
		{"bounces.webhooks.postmark", unless((p.User == "") == (p.Password == ""),
			"user and password must both be set (or neither, to turn the webhook off)")},
		{"bounces.webhooks.postmark.user", unless(off || (!strings.ContainsAny(p.User, ":") && !hasControl(p.User)),
			"must not contain ':' or control characters")},
		{"bounces.webhooks.postmark.password", unless(off || (len(p.Password) >= 16 && !hasControl(p.Password)),
			"must be at least 16 characters without control characters")},
		{"bounces.webhooks.sendgrid.public_key", optional(w.SendGrid.PublicKey, ecdsaP256)},
		{"bounces.webhooks.mailgun.signing_key", unless(k == "" || (len(k) >= 16 && !strings.ContainsFunc(k, func(r rune) bool { return r <= ' ' || r == 0x7f })),
			"want the HTTP webhook signing key Mailgun shows (at least 16 characters, no spaces)")},
	}
}

// ecdsaP256 checks a base64 DER public key, as SendGrid shows its verification key.
func ecdsaP256(s string) error {
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("not base64 (paste the verification key SendGrid shows for the signed event webhook)")
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return fmt.Errorf("not a DER public key: %v", err)
	}
	if pub, ok := k.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		return fmt.Errorf("not an ECDSA P-256 key")
	}
	return nil
}
