package dkim_test

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	msgauth "github.com/emersion/go-msgauth/dkim"

	"newsletter/internal/dkim"
	"newsletter/internal/mailer"
	"newsletter/internal/smtptest"
)

// message is a realistic newsletter message with the RFC 8058 headers and a long,
// folded List-Unsubscribe.
func message() mailer.Message {
	return mailer.Message{
		From:      mailer.Address{Name: "The Technerdo Weekly", Email: "weekly@technerdo.com"},
		To:        mailer.Address{Name: "Ada", Email: "ada@example.com"},
		Subject:   "The Technerdo Weekly: Microsoft and OpenAI end their exclusive cloud deal",
		Date:      time.Date(2026, 5, 4, 5, 0, 0, 0, time.UTC),
		MessageID: "2026-W19.1.1@technerdo.com",
		Headers: []mailer.Header{
			{Name: "List-Id", Value: "The Technerdo Weekly <weekly.technerdo.com>"},
			{Name: "List-Unsubscribe", Value: "<https://news.technerdo.com/unsubscribe/" + strings.Repeat("T", 60) + ">, <mailto:unsubscribe@technerdo.com?subject=unsubscribe>"},
			{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"},
			{Name: "Precedence", Value: "bulk"},
		},
		Text: "Hello Ada,\r\nthis week's stories.\r\n",
		HTML: "<p>Hello Ada,</p><p>this week's stories.</p>",
	}
}

func lookup(t *testing.T, key crypto.Signer) func(string) ([]string, error) {
	t.Helper()
	txt, err := dkim.TXTRecord(key)
	if err != nil {
		t.Fatal(err)
	}
	return func(domain string) ([]string, error) {
		if domain == "s2026._domainkey.technerdo.com" {
			return []string{txt}, nil
		}
		return nil, errors.New("nxdomain " + domain)
	}
}

func keys(t testing.TB) map[string]crypto.Signer {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]crypto.Signer{"rsa": rsaKey, "ed25519": edKey}
}

// Verify returns the verifications of raw with a stubbed DNS.
func verify(t *testing.T, raw []byte, key crypto.Signer) []*msgauth.Verification {
	t.Helper()
	v, err := msgauth.VerifyWithOptions(bytes.NewReader(raw), &msgauth.VerifyOptions{LookupTXT: lookup(t, key)})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSignVerifies(t *testing.T) {
	for name, key := range keys(t) {
		t.Run(name, func(t *testing.T) {
			s, err := dkim.New(dkim.Options{Domain: "technerdo.com", Keys: []dkim.Key{{Selector: "s2026", Signer: key}}})
			if err != nil {
				t.Fatal(err)
			}
			raw, err := message().Render(s)
			if err != nil {
				t.Fatal(err)
			}
			v := verify(t, raw, key)
			if len(v) != 1 || v[0].Err != nil {
				t.Fatalf("verifications %+v", v)
			}
			signed := strings.ToLower(strings.Join(v[0].HeaderKeys, ":"))
			for _, h := range []string{"from", "to", "subject", "date", "message-id", "list-id", "list-unsubscribe", "list-unsubscribe-post"} {
				if !strings.Contains(":"+signed+":", ":"+h+":") {
					t.Errorf("h= %s lacks %s", signed, h)
				}
			}

			// Tampering with the one-click URL breaks the signature.
			tampered := bytes.Replace(raw, []byte("news.technerdo.com/unsubscribe"), []byte("evil.example.net/unsubscribe"), 1)
			if bytes.Equal(tampered, raw) {
				t.Fatal("tamper did not change the message")
			}
			if v := verify(t, tampered, key); len(v) != 1 || v[0].Err == nil {
				t.Fatal("a tampered List-Unsubscribe still verifies")
			}
		})
	}
}

func TestOutboxFilesAreSigned(t *testing.T) {
	key := keys(t)["ed25519"]
	s, err := dkim.New(dkim.Options{Domain: "technerdo.com", Keys: []dkim.Key{{Selector: "s2026", Signer: key}}})
	if err != nil {
		t.Fatal(err)
	}
	out := &mailer.Outbox{Dir: t.TempDir(), Signer: s}
	snd, err := out.Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	r, err := snd.Send(t.Context(), message())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(r.Reply)
	if err != nil {
		t.Fatal(err)
	}
	if v := verify(t, raw, key); len(v) != 1 || v[0].Err != nil {
		t.Fatalf("outbox file: %+v", v)
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	for name, key := range keys(t) {
		pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".pem")
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := dkim.LoadKey(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := dkim.New(dkim.Options{Domain: "technerdo.com", Keys: []dkim.Key{{Selector: "s", Signer: got}}}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	rsaKey := keys(t)["rsa"].(*rsa.PrivateKey)
	path := filepath.Join(dir, "pkcs1.pem")
	os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), 0o600)
	if _, err := dkim.LoadKey(path); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("not a key"), 0o600)
	if _, err := dkim.LoadKey(path); err == nil {
		t.Fatal("garbage accepted")
	}
	if _, err := dkim.New(dkim.Options{Domain: "technerdo.com", Keys: []dkim.Key{{Signer: rsaKey}}}); err == nil {
		t.Fatal("missing selector accepted")
	}
}

// TestSMTPSendsSignedBytes: what the relay receives carries both signatures, RSA and
// Ed25519, and both verify.
func TestSMTPSendsSignedBytes(t *testing.T) {
	k := keys(t)
	s, err := dkim.New(dkim.Options{Domain: "technerdo.com", Keys: []dkim.Key{
		{Selector: "rsa2026", Signer: k["rsa"]}, {Selector: "ed2026", Signer: k["ed25519"]}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := smtptest.Start(t)
	cfg, err := mailer.ParseSMTPURL("smtp://" + srv.Addr() + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Signer = s
	conn, err := mailer.NewSMTP(cfg).Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msg := message()
	msg.Text = ".a line starting with a dot\r\n" + msg.Text // dot-stuffed on the wire, not in the signed bytes
	if _, err := conn.Send(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages at the server", len(msgs))
	}
	txt := map[string]string{}
	for sel, key := range map[string]crypto.Signer{"rsa2026": k["rsa"], "ed2026": k["ed25519"]} {
		if txt[sel+"._domainkey.technerdo.com"], err = dkim.TXTRecord(key); err != nil {
			t.Fatal(err)
		}
	}
	v, err := msgauth.VerifyWithOptions(bytes.NewReader(msgs[0].Data), &msgauth.VerifyOptions{LookupTXT: func(domain string) ([]string, error) {
		return []string{txt[domain]}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 2 || v[0].Err != nil || v[1].Err != nil {
		t.Fatalf("message as received: %+v", v)
	}
}

// TestOversigning: h= names each signed header once more than the message has it, so a
// forwarder that prepends a second Subject or List-Unsubscribe (which clients would show
// in place of the signed one) breaks the signature, while the message as sent verifies.
func TestOversigning(t *testing.T) {
	key := keys(t)["ed25519"]
	s, err := dkim.New(dkim.Options{Domain: "technerdo.com", Keys: []dkim.Key{{Selector: "s2026", Signer: key}}})
	if err != nil {
		t.Fatal(err)
	}
	msg := message()
	msg.ReplyTo = "editors@technerdo.com"
	msg.Headers = append(msg.Headers, mailer.Header{Name: "Feedback-ID", Value: "2026-w19:weekly.technerdo.com:technerdo"})
	raw, err := msg.Render(s)
	if err != nil {
		t.Fatal(err)
	}
	v := verify(t, raw, key)
	if len(v) != 1 || v[0].Err != nil {
		t.Fatalf("untouched message: %+v", v)
	}
	count := map[string]int{}
	for _, k := range v[0].HeaderKeys {
		count[strings.ToLower(k)]++
	}
	for _, h := range []string{"from", "to", "subject", "date", "message-id", "list-id", "list-unsubscribe", "list-unsubscribe-post", "reply-to", "feedback-id"} {
		if count[h] != 2 {
			t.Errorf("h= names %s %d times, want 2 (one field, oversigned once): %v", h, count[h], v[0].HeaderKeys)
		}
	}

	for _, tc := range []struct{ name, field string }{
		{"second Subject", "Subject: You won a prize\r\n"},
		{"second List-Unsubscribe", "List-Unsubscribe: <https://evil.example.net/u/1>\r\n"},
		{"second From", "From: Bank <security@bank.example>\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A forwarder adds fields at the top, above the DKIM-Signature.
			forged := append([]byte(tc.field), raw...)
			if v := verify(t, forged, key); len(v) != 1 || v[0].Err == nil {
				t.Fatalf("a prepended %q still verifies", strings.TrimSpace(tc.field))
			}
		})
	}

	// Without the optional fields h= does not name them: a Reply-To added by a list later
	// leaves the signature valid.
	raw, err = message().Render(s)
	if err != nil {
		t.Fatal(err)
	}
	v = verify(t, raw, key)
	if len(v) != 1 || v[0].Err != nil {
		t.Fatalf("message without Reply-To: %+v", v)
	}
	for _, k := range v[0].HeaderKeys {
		if strings.EqualFold(k, "reply-to") || strings.EqualFold(k, "feedback-id") {
			t.Errorf("h= names %s, which the message does not have", k)
		}
	}
}
