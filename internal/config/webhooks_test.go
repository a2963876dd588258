package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestValidateWebhooks(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	rsaDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	good := func(c *Config) {
		c.Bounces.Webhooks = Webhooks{
			SES:      SESWebhook{Enabled: true, TopicARN: "arn:aws:sns:eu-west-1:123456789012:ses-feedback"},
			Postmark: PostmarkWebhook{User: "postmark", Password: "a-long-random-password"},
			SendGrid: SendGridWebhook{PublicKey: base64.StdEncoding.EncodeToString(ecDER)},
			Mailgun:  MailgunWebhook{SigningKey: "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"},
		}
	}
	tests := []struct {
		name   string
		modify func(w *Webhooks)
		key    string // "" for valid
	}{
		{"all set", func(*Webhooks) {}, ""},
		{"none set", func(w *Webhooks) { *w = Webhooks{} }, ""},
		{"ses without a topic", func(w *Webhooks) { w.SES.TopicARN = "" }, "bounces.webhooks.ses.topic_arn"},
		{"ses topic not an ARN", func(w *Webhooks) { w.SES.TopicARN = "ses-feedback" }, "bounces.webhooks.ses.topic_arn"},
		{"postmark user only", func(w *Webhooks) { w.Postmark.Password = "" }, "bounces.webhooks.postmark"},
		{"postmark user with a colon", func(w *Webhooks) { w.Postmark.User = "a:b" }, "bounces.webhooks.postmark.user"},
		{"postmark short password", func(w *Webhooks) { w.Postmark.Password = "hunter2" }, "bounces.webhooks.postmark.password"},
		{"sendgrid key not base64", func(w *Webhooks) { w.SendGrid.PublicKey = "not base64!" }, "bounces.webhooks.sendgrid.public_key"},
		{"sendgrid key not DER", func(w *Webhooks) { w.SendGrid.PublicKey = base64.StdEncoding.EncodeToString([]byte("hello")) }, "bounces.webhooks.sendgrid.public_key"},
		{"sendgrid key on P-384", func(w *Webhooks) { w.SendGrid.PublicKey = base64.StdEncoding.EncodeToString(p384DER) }, "bounces.webhooks.sendgrid.public_key"},
		{"sendgrid key RSA", func(w *Webhooks) { w.SendGrid.PublicKey = base64.StdEncoding.EncodeToString(rsaDER) }, "bounces.webhooks.sendgrid.public_key"},
		{"mailgun key short", func(w *Webhooks) { w.Mailgun.SigningKey = "key-1" }, "bounces.webhooks.mailgun.signing_key"},
		{"mailgun key with a space", func(w *Webhooks) { w.Mailgun.SigningKey = "key-3ax6xnjp29jd6 fds4gc373sgvjxteol0" }, "bounces.webhooks.mailgun.signing_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Defaults()
			good(&cfg)
			tt.modify(&cfg.Bounces.Webhooks)
			err := cfg.Validate()
			if tt.key == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var cerr *Error
			if !errors.As(err, &cerr) || cerr.Key != tt.key {
				t.Fatalf("Validate() = %v, want an error for key %s", err, tt.key)
			}
		})
	}
}

func TestValidateReachesWebhooks(t *testing.T) {
	cfg := Defaults()
	cfg.Secret = strings.Repeat("s", 32)
	cfg.Bounces.Webhooks.Postmark.User = "postmark"
	var cerr *Error
	if err := cfg.Validate(); !errors.As(err, &cerr) || cerr.Key != "bounces.webhooks.postmark" {
		t.Fatalf("Validate() = %v, want the postmark key named", err)
	}
}

func TestApplyEnvWebhooks(t *testing.T) {
	env := map[string]string{
		"NEWSLETTER_WEBHOOK_SES_ENABLED":         "true",
		"NEWSLETTER_WEBHOOK_SES_TOPIC_ARN":       "arn:aws:sns:us-east-1:123456789012:ses",
		"NEWSLETTER_WEBHOOK_POSTMARK_USER":       "pm",
		"NEWSLETTER_WEBHOOK_POSTMARK_PASSWORD":   "from-the-environment",
		"NEWSLETTER_WEBHOOK_SENDGRID_PUBLIC_KEY": "S0VZ",
		"NEWSLETTER_WEBHOOK_MAILGUN_SIGNING_KEY": "key-from-the-environment",
	}
	cfg := Defaults()
	if err := cfg.ApplyEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	want := Webhooks{SES: SESWebhook{Enabled: true, TopicARN: env["NEWSLETTER_WEBHOOK_SES_TOPIC_ARN"]},
		Postmark: PostmarkWebhook{User: "pm", Password: "from-the-environment"},
		SendGrid: SendGridWebhook{PublicKey: "S0VZ"}, Mailgun: MailgunWebhook{SigningKey: "key-from-the-environment"}}
	if cfg.Bounces.Webhooks != want {
		t.Fatalf("webhooks %+v, want %+v", cfg.Bounces.Webhooks, want)
	}
	env["NEWSLETTER_WEBHOOK_SES_ENABLED"] = "maybe"
	var cerr *Error
	if err := cfg.ApplyEnv(func(k string) string { return env[k] }); !errors.As(err, &cerr) || cerr.Key != "NEWSLETTER_WEBHOOK_SES_ENABLED" {
		t.Fatalf("ApplyEnv() = %v, want an error naming %s", err, "NEWSLETTER_WEBHOOK_SES_ENABLED")
	}
}
