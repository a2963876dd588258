package webhook_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"newsletter/internal/newsletter"
	"newsletter/internal/store"
)

const certURL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-7506a1e35b36ef5a444dd1a8e7cc3ed8.pem"

// sesMail is the mail object of an SES notification about the message sent to email,
// with its original headers, as SES documents it.
func (f *fixture) sesMail(t *testing.T, email string, headers bool) map[string]any {
	t.Helper()
	m := map[string]any{
		"timestamp":        "2026-05-04T05:00:01.000Z",
		"source":           "weekly@technerdo.com",
		"sourceArn":        "arn:aws:ses:us-east-1:123456789012:identity/technerdo.com",
		"sourceIp":         "192.0.2.10",
		"sendingAccountId": "123456789012",
		"callerIdentity":   "newsletter-smtp",
		"messageId":        "010001890e5c7a1b-5f3e0a1d-8c2b-4e6f-9a7d-3b2c1d0e9f8a-000000",
		"destination":      []string{email},
	}
	if headers {
		mid := "<" + f.messageID(t, email) + ">"
		m["headersTruncated"] = false
		m["headers"] = []map[string]string{
			{"name": "From", "value": `"The Technerdo Weekly" <weekly@technerdo.com>`},
			{"name": "To", "value": "<" + email + ">"},
			{"name": "Subject", "value": "The Technerdo Weekly"},
			{"name": "Message-ID", "value": mid},
			{"name": "MIME-Version", "value": "1.0"},
		}
		m["commonHeaders"] = map[string]any{"from": []string{`"The Technerdo Weekly" <weekly@technerdo.com>`},
			"to": []string{email}, "messageId": mid, "subject": "The Technerdo Weekly"}
	}
	return m
}

func sesBounce(mailObj map[string]any, email, bounceType, status string) string {
	b, _ := json.Marshal(map[string]any{
		"notificationType": "Bounce",
		"bounce": map[string]any{
			"bounceType":    bounceType,
			"bounceSubType": "General",
			"reportingMTA":  "dns; mx.example.com",
			"bouncedRecipients": []map[string]string{{"emailAddress": email, "action": "failed", "status": status,
				"diagnosticCode": "smtp; " + strings.ReplaceAll(status, ".", "") + " " + status + " <" + email + ">... mailbox unavailable"}},
			"timestamp":   "2026-05-04T06:10:00.000Z",
			"feedbackId":  "010001890e5c8b2c-" + email + "-000000",
			"remoteMtaIp": "198.51.100.7",
		},
		"mail": mailObj,
	})
	return string(b)
}

func sesComplaint(mailObj map[string]any, email, feedbackType string) string {
	c := map[string]any{
		"userAgent":            "ExampleCorp Feedback Loop (V0.01)",
		"complainedRecipients": []map[string]string{{"emailAddress": email}},
		"timestamp":            "2026-05-04T07:30:00.000Z",
		"feedbackId":           "010001890e5d1c3d-" + email + "-000000",
		"arrivalDate":          "2026-05-04T05:00:03.000Z",
	}
	if feedbackType != "" {
		c["complaintFeedbackType"] = feedbackType
	}
	b, _ := json.Marshal(map[string]any{"notificationType": "Complaint", "complaint": c, "mail": mailObj})
	return string(b)
}

// snsMessage is what SNS posts: signed with the fake's key, SignatureVersion version.
type snsMessage struct {
	Type             string
	MessageId        string
	Token            string `json:",omitempty"`
	TopicArn         string
	Subject          *string `json:",omitempty"`
	Message          string
	SubscribeURL     string `json:",omitempty"`
	Timestamp        string
	SignatureVersion string
	Signature        string
	SigningCertURL   string
	UnsubscribeURL   string `json:",omitempty"`
}

// sign writes the signature as SNS does: the named fields in order, each "Name\nvalue\n".
func (m *snsMessage) sign(t *testing.T, key *rsa.PrivateKey) {
	t.Helper()
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k + "\n" + v + "\n") }
	add("Message", m.Message)
	add("MessageId", m.MessageId)
	if m.Type == "Notification" {
		if m.Subject != nil {
			add("Subject", *m.Subject)
		}
	} else {
		add("SubscribeURL", m.SubscribeURL)
	}
	add("Timestamp", m.Timestamp)
	if m.Type != "Notification" {
		add("Token", m.Token)
	}
	add("TopicArn", m.TopicArn)
	add("Type", m.Type)
	var sig []byte
	var err error
	if m.SignatureVersion == "1" {
		sum := sha1.Sum([]byte(b.String()))
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA1, sum[:])
	} else {
		sum := sha256.Sum256([]byte(b.String()))
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	m.Signature = base64.StdEncoding.EncodeToString(sig)
}

func notification(message, version string) *snsMessage {
	return &snsMessage{Type: "Notification", MessageId: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324", TopicArn: topicARN,
		Message: message, Timestamp: "2026-05-04T07:00:00.000Z", SignatureVersion: version, SigningCertURL: certURL,
		UnsubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + topicARN + ":1f4b"}
}

func (f *fixture) postSNS(t *testing.T, m *snsMessage) (int, string) {
	t.Helper()
	body, _ := json.Marshal(m)
	return f.post(t, "/webhooks/ses", body, http.Header{"Content-Type": {"text/plain; charset=UTF-8"},
		"X-Amz-Sns-Message-Type": {m.Type}, "X-Amz-Sns-Topic-Arn": {m.TopicArn}})
}

func TestSESNotifications(t *testing.T) {
	f := setup(t, 8)
	email := func(i int) string { return f.subs[i].Email }
	subject := "Amazon SES Email Event Notification"
	tests := []struct {
		name string
		msg  func() *snsMessage
		code int
		who  int // the subscriber changed; -1 for nobody
		want want
	}{
		{"hard bounce, SignatureVersion 1, found by Message-ID", func() *snsMessage {
			m := notification(sesBounce(f.sesMail(t, email(0), true), email(0), "Permanent", "5.1.1"), "1")
			m.sign(t, f.aws.key)
			return m
		}, http.StatusOK, 0, want{status: newsletter.StatusBounced, supp: store.SuppressBounced, source: "webhook:ses", event: "bounced"}},
		{"soft bounce, SignatureVersion 2 with a Subject", func() *snsMessage {
			m := notification(sesBounce(f.sesMail(t, email(1), true), email(1), "Transient", "4.2.2"), "2")
			m.Subject = &subject
			m.sign(t, f.aws.key)
			return m
		}, http.StatusOK, 1, want{status: newsletter.StatusActive, source: "webhook:ses", event: "soft-bounce"}},
		{"complaint without headers, found by the recipient", func() *snsMessage {
			m := notification(sesComplaint(f.sesMail(t, email(2), false), email(2), "abuse"), "2")
			m.sign(t, f.aws.key)
			return m
		}, http.StatusOK, 2, want{status: newsletter.StatusUnsubscribed, supp: store.SuppressComplained, source: "webhook:ses", event: "complained"}},
		{"bounce whose VERP envelope sender names the subscriber", func() *snsMessage {
			mo := f.sesMail(t, email(6), false)
			mo["source"] = f.sent[email(6)].From
			m := notification(sesBounce(mo, email(6), "Permanent", "5.1.1"), "2")
			m.sign(t, f.aws.key)
			return m
		}, http.StatusOK, 6, want{status: newsletter.StatusBounced, supp: store.SuppressBounced, source: "webhook:ses", event: "bounced"}},
		{"event publishing names the type eventType", func() *snsMessage {
			msg := strings.Replace(sesBounce(f.sesMail(t, email(5), true), email(5), "Permanent", "5.1.1"), `"notificationType"`, `"eventType"`, 1)
			m := notification(msg, "2")
			m.sign(t, f.aws.key)
			return m
		}, http.StatusOK, 5, want{status: newsletter.StatusBounced, supp: store.SuppressBounced, source: "webhook:ses", event: "bounced"}},
		{"not-spam feedback is not a complaint", func() *snsMessage {
			m := notification(sesComplaint(f.sesMail(t, email(3), true), email(3), "not-spam"), "2")
			m.sign(t, f.aws.key)
			return m
		}, http.StatusOK, -1, want{}},
		{"a delivery notification is ignored", func() *snsMessage {
			b, _ := json.Marshal(map[string]any{"notificationType": "Delivery", "mail": f.sesMail(t, email(3), true),
				"delivery": map[string]any{"timestamp": "2026-05-04T05:00:02.000Z", "recipients": []string{email(3)}, "smtpResponse": "250 ok"}})
			m := notification(string(b), "2")
			m.sign(t, f.aws.key)
			return m
		}, http.StatusOK, -1, want{}},
		{"SES's plain-text notice on an event destination is ignored", func() *snsMessage {
			m := notification("Successfully validated SNS topic for Amazon SES event publishing.", "2")
			m.sign(t, f.aws.key)
			return m
		}, http.StatusOK, -1, want{}},
		{"Message-ID of one subscriber, recipient another", func() *snsMessage {
			m := notification(sesBounce(f.sesMail(t, email(3), true), email(4), "Permanent", "5.1.1"), "2")
			m.sign(t, f.aws.key)
			return m
		}, http.StatusOK, -1, want{}},
		{"recipient not on the list", func() *snsMessage {
			m := notification(sesBounce(f.sesMail(t, "stranger@example.net", false), "stranger@example.net", "Permanent", "5.1.1"), "2")
			m.sign(t, f.aws.key)
			return m
		}, http.StatusOK, -1, want{}},
		{"message changed after signing", func() *snsMessage {
			m := notification(sesBounce(f.sesMail(t, email(3), true), email(3), "Transient", "4.2.2"), "2")
			m.sign(t, f.aws.key)
			m.Message = strings.Replace(m.Message, "Transient", "Permanent", 1)
			return m
		}, http.StatusForbidden, -1, want{}},
		{"signed by another key", func() *snsMessage {
			other, _ := rsa.GenerateKey(rand.Reader, 2048)
			m := notification(sesBounce(f.sesMail(t, email(3), true), email(3), "Permanent", "5.1.1"), "1")
			m.sign(t, other)
			return m
		}, http.StatusForbidden, -1, want{}},
		{"no signature", func() *snsMessage {
			return notification(sesBounce(f.sesMail(t, email(3), true), email(3), "Permanent", "5.1.1"), "2")
		}, http.StatusForbidden, -1, want{}},
		{"unknown SignatureVersion", func() *snsMessage {
			m := notification(sesBounce(f.sesMail(t, email(3), true), email(3), "Permanent", "5.1.1"), "2")
			m.sign(t, f.aws.key)
			m.SignatureVersion = "3"
			return m
		}, http.StatusForbidden, -1, want{}},
		{"another topic", func() *snsMessage {
			m := notification(sesBounce(f.sesMail(t, email(3), true), email(3), "Permanent", "5.1.1"), "2")
			m.TopicArn = "arn:aws:sns:us-east-1:999999999999:someone-else"
			m.sign(t, f.aws.key)
			return m
		}, http.StatusForbidden, -1, want{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.state(t)
			code, body := f.postSNS(t, tt.msg())
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
	if got := f.metric(t, `newsletter_bounces_total{kind="hard"}`); got != "3" {
		t.Errorf("hard bounces metric %s, want 3", got)
	}
	if got := f.metric(t, `newsletter_bounces_total{kind="soft"}`); got != "1" {
		t.Errorf("soft bounces metric %s, want 1", got)
	}
	if got := f.metric(t, "newsletter_complaints_total"); got != "1" {
		t.Errorf("complaints metric %s, want 1", got)
	}
	// The certificate was fetched once, from the URL in the messages, and then cached.
	if got := f.aws.fetches(); !slices.Equal(got, []string{certURL}) {
		t.Errorf("fetched %q, want the certificate once", got)
	}
}

// TestSESCertificateHost refuses a SigningCertURL that is not https on an
// sns.<region>.amazonaws.com host, without fetching it.
func TestSESCertificateHost(t *testing.T) {
	f := setup(t, 1)
	for _, u := range []string{
		"https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-1.pem",
		"http://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
		"https://evil.example/sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
		"https://s3.amazonaws.com/SimpleNotificationService-1.pem",
		"https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-1.pem",
		"https://user@sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
	} {
		t.Run(u, func(t *testing.T) {
			before := f.state(t)
			m := notification(sesBounce(f.sesMail(t, f.subs[0].Email, true), f.subs[0].Email, "Permanent", "5.1.1"), "2")
			m.SigningCertURL = u
			m.sign(t, f.aws.key)
			if code, body := f.postSNS(t, m); code != http.StatusForbidden {
				t.Fatalf("status %d (%s), want 403", code, body)
			}
			if after := f.state(t); after != before {
				t.Fatalf("the list changed")
			}
		})
	}
	if got := f.aws.fetches(); len(got) != 0 {
		t.Errorf("fetched %q, want nothing", got)
	}
	// A redirect from the SNS host is not followed.
	m := notification(sesBounce(f.sesMail(t, f.subs[0].Email, true), f.subs[0].Email, "Permanent", "5.1.1"), "2")
	m.SigningCertURL = "https://sns.us-east-1.amazonaws.com/redirect/SimpleNotificationService-1.pem"
	m.sign(t, f.aws.key)
	if code, body := f.postSNS(t, m); code != http.StatusServiceUnavailable {
		t.Fatalf("redirected certificate: status %d (%s), want 503", code, body)
	}
	if got := f.aws.fetches(); len(got) != 1 {
		t.Errorf("fetched %q, want the redirecting URL only", got)
	}
}

// TestSESSubscriptionConfirmation confirms the subscription by fetching SubscribeURL, only
// for a signed message whose SubscribeURL is on an SNS host.
func TestSESSubscriptionConfirmation(t *testing.T) {
	f := setup(t, 1)
	subscribe := "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + topicARN + "&Token=2336412f37fb687f5d51e6e2425c464de"
	confirmation := func(u string) *snsMessage {
		return &snsMessage{Type: "SubscriptionConfirmation", MessageId: "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
			Token: "2336412f37fb687f5d51e6e2425c464de", TopicArn: topicARN,
			Message:      "You have chosen to subscribe to the topic " + topicARN + ".\nTo confirm the subscription, visit the SubscribeURL included in this message.",
			SubscribeURL: u, Timestamp: "2026-05-04T04:00:00.000Z", SignatureVersion: "1", SigningCertURL: certURL}
	}
	forged := confirmation(subscribe)
	forged.sign(t, f.aws.key)
	forged.Token = "someone-elses"
	if code, _ := f.postSNS(t, forged); code != http.StatusForbidden {
		t.Fatalf("forged confirmation: status %d, want 403", code)
	}
	elsewhere := confirmation("https://evil.example/?Action=ConfirmSubscription")
	elsewhere.sign(t, f.aws.key)
	if code, _ := f.postSNS(t, elsewhere); code != http.StatusForbidden {
		t.Fatalf("SubscribeURL off SNS: status %d, want 403", code)
	}
	if got := f.aws.fetches(); slices.Contains(got, subscribe) || len(got) > 1 {
		t.Fatalf("fetched %q before a good confirmation", got)
	}
	good := confirmation(subscribe)
	good.sign(t, f.aws.key)
	if code, body := f.postSNS(t, good); code != http.StatusOK {
		t.Fatalf("status %d (%s), want 200", code, body)
	}
	if got := f.aws.fetches(); !slices.Contains(got, subscribe) {
		t.Errorf("fetched %q, want the SubscribeURL", got)
	}
}

// TestSESExpiredCertificate refuses a certificate outside its validity.
func TestSESExpiredCertificate(t *testing.T) {
	f := setup(t, 1)
	f.clock.Set(sendTime.AddDate(2, 0, 0))
	m := notification(sesBounce(f.sesMail(t, f.subs[0].Email, true), f.subs[0].Email, "Permanent", "5.1.1"), "2")
	m.sign(t, f.aws.key)
	if code, _ := f.postSNS(t, m); code != http.StatusForbidden {
		t.Fatalf("status %d, want 403", code)
	}
}
