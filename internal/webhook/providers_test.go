package webhook_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"newsletter/internal/bounce"
	"newsletter/internal/newsletter"
	"newsletter/internal/roster"
	"newsletter/internal/store"
	"newsletter/internal/web"
	"newsletter/internal/webhook"
)

// sendgridSigner holds a key pair standing for SendGrid's.
type sendgridSigner struct {
	key    *ecdsa.PrivateKey
	public string // base64 DER, as SendGrid shows the verification key
}

func newSendGridSigner(t *testing.T) *sendgridSigner {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return &sendgridSigner{key: key, public: base64.StdEncoding.EncodeToString(der)}
}

func (s *sendgridSigner) headers(t *testing.T, ts string, body []byte) http.Header {
	t.Helper()
	sum := sha256.Sum256(append([]byte(ts), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, s.key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"Content-Type": {"application/json"},
		"X-Twilio-Email-Event-Webhook-Signature": {base64.StdEncoding.EncodeToString(sig)},
		"X-Twilio-Email-Event-Webhook-Timestamp": {ts}}
}

// sendgridEvent is one event shaped as SendGrid's Event Webhook reference shows it.
func (f *fixture) sendgridEvent(t *testing.T, email, event string, extra map[string]any) map[string]any {
	t.Helper()
	ev := map[string]any{
		"email":         email,
		"timestamp":     f.clock.Now().Unix(),
		"smtp-id":       "<" + f.messageID(t, email) + ">",
		"event":         event,
		"category":      []string{"newsletter"},
		"sg_event_id":   "ZHJvcC0xMjM0NTY3LTg5MC1" + strconv.Itoa(len(email)) + event,
		"sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648." + strings.ToUpper(hex.EncodeToString([]byte(email))[:10]) + ".0",
	}
	for k, v := range extra {
		ev[k] = v
	}
	return ev
}

func TestSendGridEvents(t *testing.T) {
	f := setup(t, 8)
	email := func(i int) string { return f.subs[i].Email }
	ts := strconv.FormatInt(f.clock.Now().Unix(), 10)
	type post struct {
		body   []byte
		header http.Header
	}
	signed := func(events ...map[string]any) post {
		b, _ := json.Marshal(events)
		return post{b, f.sgKey.headers(t, ts, b)}
	}
	tests := []struct {
		name string
		req  func() post
		code int
		who  []int
		want []want
	}{
		{"a batch: bounce, spam report, delivered", func() post {
			return signed(
				f.sendgridEvent(t, email(0), "bounce", map[string]any{"reason": "550 5.1.1 The email account that you tried to reach does not exist.", "status": "5.1.1", "type": "bounce"}),
				f.sendgridEvent(t, email(1), "spamreport", nil),
				f.sendgridEvent(t, email(2), "delivered", map[string]any{"response": "250 OK"}))
		}, http.StatusOK, []int{0, 1}, []want{
			{status: newsletter.StatusBounced, supp: store.SuppressBounced, source: "webhook:sendgrid", event: "bounced"},
			{status: newsletter.StatusUnsubscribed, supp: store.SuppressComplained, source: "webhook:sendgrid", event: "complained"}}},
		{"blocked and deferred are soft", func() post {
			return signed(
				f.sendgridEvent(t, email(3), "bounce", map[string]any{"reason": "550 blocked by policy", "status": "5.7.1", "type": "blocked"}),
				f.sendgridEvent(t, email(4), "deferred", map[string]any{"response": "400 try again later", "attempt": "1"}))
		}, http.StatusOK, []int{3, 4}, []want{
			{status: newsletter.StatusActive, source: "webhook:sendgrid", event: "soft-bounce"},
			{status: newsletter.StatusActive, source: "webhook:sendgrid", event: "soft-bounce"}}},
		{"dropped as a bounced address", func() post {
			return signed(f.sendgridEvent(t, email(5), "dropped", map[string]any{"reason": "Bounced Address", "status": "5.0.0"}))
		}, http.StatusOK, []int{5}, []want{{status: newsletter.StatusBounced, supp: store.SuppressBounced, source: "webhook:sendgrid", event: "bounced"}}},
		{"dropped as unsubscribed is ignored", func() post {
			return signed(f.sendgridEvent(t, email(6), "dropped", map[string]any{"reason": "Unsubscribed Address", "status": "5.0.0"}))
		}, http.StatusOK, nil, nil},
		{"unknown event types are ignored", func() post {
			return signed(f.sendgridEvent(t, email(6), "group_resubscribe", nil), f.sendgridEvent(t, email(6), "open", nil))
		}, http.StatusOK, nil, nil},
		{"bad signature", func() post {
			p := signed(f.sendgridEvent(t, email(6), "bounce", map[string]any{"status": "5.1.1", "type": "bounce"}))
			p.body = []byte(strings.Replace(string(p.body), email(6), email(7), 1))
			return p
		}, http.StatusForbidden, nil, nil},
		{"signature over another timestamp", func() post {
			p := signed(f.sendgridEvent(t, email(6), "bounce", map[string]any{"status": "5.1.1", "type": "bounce"}))
			p.header.Set("X-Twilio-Email-Event-Webhook-Timestamp", "1")
			return p
		}, http.StatusForbidden, nil, nil},
		{"no signature", func() post {
			p := signed(f.sendgridEvent(t, email(6), "bounce", map[string]any{"status": "5.1.1", "type": "bounce"}))
			p.header.Del("X-Twilio-Email-Event-Webhook-Signature")
			return p
		}, http.StatusUnauthorized, nil, nil},
		{"signed by another key", func() post {
			b, _ := json.Marshal([]map[string]any{f.sendgridEvent(t, email(6), "bounce", map[string]any{"status": "5.1.1", "type": "bounce"})})
			return post{b, newSendGridSigner(t).headers(t, ts, b)}
		}, http.StatusForbidden, nil, nil},
		{"deferrals of one message without its Message-ID count once", func() post {
			first := f.sendgridEvent(t, email(6), "deferred", map[string]any{"response": "421 try again later", "attempt": "1"})
			second := f.sendgridEvent(t, email(6), "deferred", map[string]any{"response": "421 try again later", "attempt": "2",
				"sg_event_id": "ZGVmZXJyZWQtMg", "timestamp": f.clock.Now().Add(10 * time.Minute).Unix()})
			delete(first, "smtp-id")
			delete(second, "smtp-id")
			return signed(first, second)
		}, http.StatusOK, []int{6}, []want{{status: newsletter.StatusActive, source: "webhook:sendgrid", event: "soft-bounce"}}},
		{"body over the cap", func() post {
			b := []byte(`[` + strings.Repeat(" ", 70<<10) + `]`)
			return post{b, f.sgKey.headers(t, ts, b)}
		}, http.StatusRequestEntityTooLarge, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.state(t)
			p := tt.req()
			code, body := f.post(t, "/webhooks/sendgrid", p.body, p.header)
			if code != tt.code {
				t.Fatalf("status %d (%s), want %d", code, body, tt.code)
			}
			if len(tt.who) == 0 {
				if after := f.state(t); after != before {
					t.Fatalf("the list changed:\n%s\nto\n%s", before, after)
				}
				return
			}
			for i, who := range tt.who {
				f.check(t, email(who), tt.want[i])
			}
		})
	}
}

// postmarkBounce is a Bounce webhook shaped as Postmark documents it.
func postmarkBounce(recordType, typ string, typeCode int, email string) []byte {
	b, _ := json.Marshal(map[string]any{
		"RecordType": recordType, "ID": 4323372036854775807 - int64(len(email)) - int64(typeCode), "Type": typ, "TypeCode": typeCode,
		"Name": typ, "Tag": "newsletter", "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483", "ServerID": 23,
		"MessageStream": "broadcast", "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
		"Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.", "Email": email,
		"From": "weekly@technerdo.com", "BouncedAt": "2026-05-04T06:28:10.2735393-04:00", "DumpAvailable": true,
		"Inactive": true, "CanActivate": true, "Subject": "The Technerdo Weekly", "Content": "Return-Path:....",
		"Metadata": map[string]string{"issue": "2026-W19"},
	})
	return b
}

func TestPostmark(t *testing.T) {
	f := setup(t, 6)
	email := func(i int) string { return f.subs[i].Email }
	auth := func(user, pass string) http.Header {
		h := http.Header{"Content-Type": {"application/json"}}
		if user != "" {
			h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
		}
		return h
	}
	good := auth(postmarkUser, postmarkPassword)
	tests := []struct {
		name   string
		body   []byte
		header http.Header
		code   int
		who    int
		want   want
	}{
		{"hard bounce", postmarkBounce("Bounce", "HardBounce", 1, email(0)), good, http.StatusOK, 0,
			want{status: newsletter.StatusBounced, supp: store.SuppressBounced, source: "webhook:postmark", event: "bounced"}},
		{"soft bounce", postmarkBounce("Bounce", "SoftBounce", 4096, email(1)), good, http.StatusOK, 1,
			want{status: newsletter.StatusActive, source: "webhook:postmark", event: "soft-bounce"}},
		{"spam complaint", postmarkBounce("SpamComplaint", "SpamComplaint", 512, email(2)), good, http.StatusOK, 2,
			want{status: newsletter.StatusUnsubscribed, supp: store.SuppressComplained, source: "webhook:postmark", event: "complained"}},
		{"a spam notification (the receiver refused the content) is soft", postmarkBounce("Bounce", "SpamNotification", 512, email(5)), good, http.StatusOK, 5,
			want{status: newsletter.StatusActive, source: "webhook:postmark", event: "soft-bounce"}},
		{"an auto-responder is ignored", postmarkBounce("Bounce", "AutoResponder", 64, email(3)), good, http.StatusOK, -1, want{}},
		{"an unsubscribe request is not a bounce", postmarkBounce("Bounce", "Unsubscribe", 16, email(3)), good, http.StatusOK, -1, want{}},
		{"a delivery is ignored", []byte(`{"RecordType":"Delivery","ServerID":23,"MessageStream":"broadcast","MessageID":"883953f4-6105-42a2-a16a-77a8eac79483","Recipient":"` + email(3) + `","Tag":"newsletter","DeliveredAt":"2026-05-04T06:00:00Z","Details":"Test delivery webhook details","Metadata":{}}`),
			good, http.StatusOK, -1, want{}},
		{"wrong password", postmarkBounce("Bounce", "HardBounce", 1, email(3)), auth(postmarkUser, "guess"), http.StatusUnauthorized, -1, want{}},
		{"wrong user", postmarkBounce("Bounce", "HardBounce", 1, email(3)), auth("admin", postmarkPassword), http.StatusUnauthorized, -1, want{}},
		{"no credentials", postmarkBounce("Bounce", "HardBounce", 1, email(3)), auth("", ""), http.StatusUnauthorized, -1, want{}},
		{"not JSON", []byte("RecordType=Bounce"), good, http.StatusBadRequest, -1, want{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.state(t)
			code, body := f.post(t, "/webhooks/postmark", tt.body, tt.header)
			if code != tt.code {
				t.Fatalf("status %d (%s), want %d", code, body, tt.code)
			}
			if tt.who < 0 {
				if after := f.state(t); after != before {
					t.Fatalf("the list changed:\n%s\nto\n%s", before, after)
				}
				return
			}
			f.check(t, email(tt.who), tt.want)
		})
	}
	// Postmark may report a delay (Transient) and later a soft bounce of the same message;
	// found by the address alone, they are one soft bounce, not two.
	t.Run("a delay and then a soft bounce of one message count once", func(t *testing.T) {
		for _, b := range [][]byte{
			bouncedAt(t, postmarkBounce("Bounce", "Transient", 2, email(4)), "2026-05-04T06:28:10Z"),
			bouncedAt(t, postmarkBounce("Bounce", "SoftBounce", 4096, email(4)), "2026-05-05T06:28:10Z"),
		} {
			if code, body := f.post(t, "/webhooks/postmark", b, good); code != http.StatusOK {
				t.Fatalf("status %d (%s), want 200", code, body)
			}
		}
		f.check(t, email(4), want{status: newsletter.StatusActive, source: "webhook:postmark", event: "soft-bounce"})
	})
}

// bouncedAt sets the BouncedAt of a Postmark webhook.
func bouncedAt(t *testing.T, body []byte, at string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	m["BouncedAt"] = at
	b, _ := json.Marshal(m)
	return b
}

// mailgunPayload is a webhook shaped as Mailgun's payload examples, signed with key at ts.
func (f *fixture) mailgunPayload(t *testing.T, key string, ts time.Time, token, email string, eventData map[string]any) []byte {
	t.Helper()
	stamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(stamp + token))
	ed := map[string]any{
		"id":               "G9Bn5sl1TC6nu79C8C0bwg",
		"timestamp":        float64(f.clock.Now().Unix()) + 0.521,
		"log-level":        "error",
		"recipient":        email,
		"recipient-domain": "example.com",
		"envelope":         map[string]any{"sender": "weekly@technerdo.com", "transport": "smtp", "targets": email},
		"message": map[string]any{"headers": map[string]any{"to": email, "message-id": f.messageID(t, email),
			"from": "The Technerdo Weekly <weekly@technerdo.com>", "subject": "The Technerdo Weekly"}, "attachments": []any{}, "size": 111},
		"flags":          map[string]any{"is-routed": false, "is-authenticated": true, "is-system-test": false, "is-test-mode": false},
		"tags":           []string{"newsletter"},
		"user-variables": map[string]any{},
	}
	for k, v := range eventData {
		ed[k] = v
	}
	b, _ := json.Marshal(map[string]any{
		"signature":  map[string]string{"timestamp": stamp, "token": token, "signature": hex.EncodeToString(mac.Sum(nil))},
		"event-data": ed,
	})
	return b
}

// subaccount turns a Mailgun payload into one about a subaccount's domain: the signature
// it had, made with the primary account's key, becomes the parent-signature, and the
// signature is made with the subaccount's own key.
func subaccount(t *testing.T, body []byte) []byte {
	t.Helper()
	var p map[string]map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	sig := p["signature"]
	mac := hmac.New(sha256.New, []byte("key-subaccount-of-technerdo"))
	mac.Write([]byte(sig["timestamp"].(string) + sig["token"].(string)))
	sig["parent-signature"], sig["signature"] = sig["signature"], hex.EncodeToString(mac.Sum(nil))
	b, _ := json.Marshal(p)
	return b
}

// numericTimestamp writes a Mailgun payload's signed timestamp as a JSON number.
func numericTimestamp(t *testing.T, body []byte) []byte {
	t.Helper()
	var p map[string]map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	p["signature"]["timestamp"] = json.Number(p["signature"]["timestamp"].(string))
	b, _ := json.Marshal(p)
	return b
}

func TestMailgun(t *testing.T) {
	f := setup(t, 8)
	email := func(i int) string { return f.subs[i].Email }
	now := f.clock.Now()
	failed := func(severity string, code int, enhanced string) map[string]any {
		return map[string]any{"event": "failed", "severity": severity, "reason": "bounce",
			"delivery-status": map[string]any{"attempt-no": 1, "code": code, "enhanced-code": enhanced,
				"message": "No such mailbox", "description": "", "session-seconds": 0.1, "mx-host": "mx.example.com"}}
	}
	json := map[string][]string{"Content-Type": {"application/json"}}
	token := func(i int) string { return fmt.Sprintf("%050d", i) }
	// retry is a temporary failure of the same message, under Mailgun's own Message-ID.
	retry := func(id string, at time.Time) map[string]any {
		ev := failed("temporary", 421, "4.7.0")
		ev["message"] = map[string]any{"headers": map[string]any{"to": email(4), "message-id": "20260504050001.5f3e0a1d8c2b4e6f@mg.technerdo.com"}}
		ev["timestamp"], ev["id"] = float64(at.Unix()), id
		return ev
	}
	// givenUp is Mailgun's last word on a message it retried: permanent, reason "old".
	givenUp := func(severity, reason string, at time.Time) map[string]any {
		ev := failed(severity, 421, "4.7.0")
		ev["reason"] = reason
		ev["message"] = map[string]any{"headers": map[string]any{"to": email(6), "message-id": "20260504050001.9a7d3b2c1d0e9f8a@mg.technerdo.com"}}
		ev["timestamp"], ev["id"] = float64(at.Unix()), "event-"+reason
		return ev
	}
	tests := []struct {
		name  string
		body  []byte
		code  int
		who   int
		want  want
		first []byte // posted before body, when set
	}{
		{"permanent failure", f.mailgunPayload(t, mailgunKey, now, token(1), email(0), failed("permanent", 550, "5.1.1")), http.StatusOK, 0,
			want{status: newsletter.StatusBounced, supp: store.SuppressBounced, source: "webhook:mailgun", event: "bounced"}, nil},
		{"temporary failure", f.mailgunPayload(t, mailgunKey, now.Add(-4*time.Minute), token(2), email(1), failed("temporary", 452, "4.2.2")), http.StatusOK, 1,
			want{status: newsletter.StatusActive, source: "webhook:mailgun", event: "soft-bounce"}, nil},
		{"complaint", f.mailgunPayload(t, mailgunKey, now, token(3), email(2), map[string]any{"event": "complained"}), http.StatusOK, 2,
			want{status: newsletter.StatusUnsubscribed, supp: store.SuppressComplained, source: "webhook:mailgun", event: "complained"}, nil},
		{name: "two attempts at one message count once",
			first: f.mailgunPayload(t, mailgunKey, now, token(20), email(4), retry("attempt-1", now.Add(-time.Hour))),
			body:  f.mailgunPayload(t, mailgunKey, now, token(21), email(4), retry("attempt-2", now)),
			code:  http.StatusOK, who: 4, want: want{status: newsletter.StatusActive, source: "webhook:mailgun", event: "soft-bounce"}},
		{name: "a message given up on after its retries counts once",
			first: f.mailgunPayload(t, mailgunKey, now, token(22), email(6), givenUp("temporary", "generic", now.Add(-8*time.Hour))),
			body:  f.mailgunPayload(t, mailgunKey, now, token(23), email(6), givenUp("permanent", "old", now)),
			code:  http.StatusOK, who: 6, want: want{status: newsletter.StatusActive, source: "webhook:mailgun", event: "soft-bounce"}},
		{"not sent to an address on Mailgun's unsubscribe list: ignored", f.mailgunPayload(t, mailgunKey, now, token(9), email(5),
			map[string]any{"event": "failed", "severity": "permanent", "reason": "suppress-unsubscribe"}), http.StatusOK, -1, want{}, nil},
		{"blocked by the receiver for the sender's reputation: soft", f.mailgunPayload(t, mailgunKey, now, token(10), email(5),
			map[string]any{"event": "failed", "severity": "permanent", "reason": "espblock",
				"delivery-status": map[string]any{"code": 554, "message": "blocked", "description": "blocked by policy"}}), http.StatusOK, 5,
			want{status: newsletter.StatusActive, source: "webhook:mailgun", event: "soft-bounce"}, nil},
		{"a subaccount's event, checked by its parent-signature", subaccount(t, f.mailgunPayload(t, mailgunKey, now, token(11), email(3), failed("permanent", 550, "5.1.1"))), http.StatusOK, 3,
			want{status: newsletter.StatusBounced, supp: store.SuppressBounced, source: "webhook:mailgun", event: "bounced"}, nil},
		{"a subaccount's event whose parent-signature is wrong", subaccount(t, f.mailgunPayload(t, "key-someone-else", now, token(12), email(5), failed("permanent", 550, "5.1.1"))), http.StatusForbidden, -1, want{}, nil},
		{"the timestamp as a JSON number, as Mailgun's table types it", numericTimestamp(t, f.mailgunPayload(t, mailgunKey, now, token(13), email(7), failed("temporary", 452, "4.2.2"))), http.StatusOK, 7,
			want{status: newsletter.StatusActive, source: "webhook:mailgun", event: "soft-bounce"}, nil},
		{"delivered is ignored", f.mailgunPayload(t, mailgunKey, now, token(4), email(3), map[string]any{"event": "delivered"}), http.StatusOK, -1, want{}, nil},
		// Mailgun signs only the timestamp and the token: the token may serve once.
		{"replayed token", f.mailgunPayload(t, mailgunKey, now, token(1), email(3), failed("permanent", 550, "5.1.1")), http.StatusForbidden, -1, want{}, nil},
		{"old timestamp", f.mailgunPayload(t, mailgunKey, now.Add(-6*time.Minute), token(5), email(3), failed("permanent", 550, "5.1.1")), http.StatusForbidden, -1, want{}, nil},
		{"timestamp from the future", f.mailgunPayload(t, mailgunKey, now.Add(time.Hour), token(6), email(3), failed("permanent", 550, "5.1.1")), http.StatusForbidden, -1, want{}, nil},
		{"wrong key", f.mailgunPayload(t, "key-someone-else", now, token(7), email(3), failed("permanent", 550, "5.1.1")), http.StatusForbidden, -1, want{}, nil},
		{"no signature", []byte(`{"event-data":{"event":"failed","severity":"permanent","recipient":"` + email(3) + `"}}`), http.StatusUnauthorized, -1, want{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.first != nil {
				if code, body := f.post(t, "/webhooks/mailgun", tt.first, json); code != http.StatusOK {
					t.Fatalf("first post: %d %s", code, body)
				}
			}
			before := f.state(t)
			code, body := f.post(t, "/webhooks/mailgun", tt.body, json)
			if code != tt.code {
				t.Fatalf("status %d (%s), want %d", code, body, tt.code)
			}
			if tt.who < 0 {
				if after := f.state(t); after != before {
					t.Fatalf("the list changed:\n%s\nto\n%s", before, after)
				}
				return
			}
			f.check(t, email(tt.who), tt.want)
		})
	}
}

// TestUnconfiguredProvidersAnswer404 mounts only Postmark: the other endpoints do not exist.
func TestUnconfiguredProvidersAnswer404(t *testing.T) {
	h, err := webhook.New(webhook.Options{Applier: nopApplier{}, Postmark: &webhook.Postmark{User: "u", Password: "p"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.Handler(h))
	defer srv.Close()
	for path, want := range map[string]int{"/webhooks/ses": 404, "/webhooks/sendgrid": 404, "/webhooks/mailgun": 404, "/webhooks/postmark": 401} {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader("[]"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("POST %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	// A webhook is only ever POSTed: a GET (a crawler, a mistyped check) is not routed.
	resp, err := http.Get(srv.URL + "/webhooks/postmark")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /webhooks/postmark: %d, want 405", resp.StatusCode)
	}
	if _, err := webhook.New(webhook.Options{Applier: nopApplier{}, SES: &webhook.SES{}}); err == nil {
		t.Error("SES without a topic ARN was accepted")
	}
	if _, err := webhook.New(webhook.Options{Applier: nopApplier{}, SendGrid: &webhook.SendGrid{PublicKey: "S0VZ"}}); err == nil {
		t.Error("a SendGrid key that is not a P-256 key was accepted")
	}
}

// nopApplier fails the test run if a report reaches it.
type nopApplier struct{}

func (nopApplier) ApplyReport(context.Context, bounce.Report, roster.BounceRules) (roster.BounceOutcome, error) {
	return roster.BounceOutcome{}, errors.New("no report was expected")
}

// TestProviderListComplaintsAreNotTheIssues: a message the provider did not send because
// the address complained before (SendGrid's spam report list, Mailgun's complaint list,
// SES's account-level suppression list) suppresses the reader, but is no complaint about
// this issue: the canary and the complaint alarm count an issue's complaints.
func TestProviderListComplaintsAreNotTheIssues(t *testing.T) {
	f := setup(t, 3)
	ctx := context.Background()
	ts := strconv.FormatInt(f.clock.Now().Unix(), 10)
	drop, _ := json.Marshal([]map[string]any{f.sendgridEvent(t, f.subs[0].Email, "dropped",
		map[string]any{"reason": "Spam Reporting Address", "status": "5.0.0"})})
	if code, body := f.post(t, "/webhooks/sendgrid", drop, f.sgKey.headers(t, ts, drop)); code != http.StatusOK {
		t.Fatalf("sendgrid: status %d (%s)", code, body)
	}
	suppressed := f.mailgunPayload(t, mailgunKey, f.clock.Now(), fmt.Sprintf("%050d", 1), f.subs[1].Email,
		map[string]any{"event": "failed", "severity": "permanent", "reason": "suppress-complaint"})
	if code, body := f.post(t, "/webhooks/mailgun", suppressed, http.Header{"Content-Type": {"application/json"}}); code != http.StatusOK {
		t.Fatalf("mailgun: status %d (%s)", code, body)
	}
	var complaint map[string]any
	if err := json.Unmarshal([]byte(sesComplaint(f.sesMail(t, f.subs[2].Email, true), f.subs[2].Email, "")), &complaint); err != nil {
		t.Fatal(err)
	}
	complaint["complaint"].(map[string]any)["complaintSubType"] = "OnAccountSuppressionList"
	msg, _ := json.Marshal(complaint)
	m := notification(string(msg), "2")
	m.sign(t, f.aws.key)
	if code, body := f.postSNS(t, m); code != http.StatusOK {
		t.Fatalf("ses: status %d (%s)", code, body)
	}
	for i, source := range []string{"webhook:sendgrid", "webhook:mailgun", "webhook:ses"} {
		f.check(t, f.subs[i].Email, want{status: newsletter.StatusUnsubscribed, supp: store.SuppressComplained, source: source, event: "complained"})
	}
	r, err := f.db.IssueBounces(ctx, f.issue.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Complaints != 0 {
		t.Errorf("issue %d has %d complaints, want 0: the providers sent it to none of them", f.issue.ID, r.Complaints)
	}
}

// failOnceApplier fails the first report it is given, as a busy store would, then records.
type failOnceApplier struct{ calls int }

func (a *failOnceApplier) ApplyReport(context.Context, bounce.Report, roster.BounceRules) (roster.BounceOutcome, error) {
	a.calls++
	if a.calls == 1 {
		return roster.BounceOutcome{}, errors.New("database is locked")
	}
	return roster.BounceOutcome{Recorded: true}, nil
}

// TestMailgunRetryAfterStoreFailure: a request answered 500 may come again with the same
// token; only one that was handled counts as used.
func TestMailgunRetryAfterStoreFailure(t *testing.T) {
	now := time.Date(2026, 5, 4, 6, 0, 0, 0, time.UTC)
	app := &failOnceApplier{}
	h, err := webhook.New(webhook.Options{Applier: app, Mailgun: &webhook.Mailgun{SigningKey: mailgunKey},
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.Handler(h))
	defer srv.Close()
	stamp, token := strconv.FormatInt(now.Unix(), 10), fmt.Sprintf("%050d", 7)
	mac := hmac.New(sha256.New, []byte(mailgunKey))
	mac.Write([]byte(stamp + token))
	body, _ := json.Marshal(map[string]any{
		"signature":  map[string]string{"timestamp": stamp, "token": token, "signature": hex.EncodeToString(mac.Sum(nil))},
		"event-data": map[string]any{"event": "failed", "severity": "permanent", "recipient": "a@example.com"},
	})
	for i, want := range []int{http.StatusInternalServerError, http.StatusOK, http.StatusForbidden} {
		resp, err := http.Post(srv.URL+"/webhooks/mailgun", "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("post %d: status %d, want %d", i+1, resp.StatusCode, want)
		}
	}
}
