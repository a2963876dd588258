package webhook

import (
	"cmp"
	"context"
	"crypto"
	"crypto/rsa"
	_ "crypto/sha1" // SignatureVersion 1
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"newsletter/internal/bounce"
)

// SES configures POST /webhooks/ses: Amazon SES notifications delivered by SNS.
type SES struct {
	// TopicARN is the only SNS topic accepted: SNS signs every AWS account's topics
	// alike, so the topic is what says a notification (or a subscription) is ours.
	TopicARN string
}

// snsMessage is the JSON body SNS posts to an HTTP(S) subscriber.
type snsMessage struct {
	Type             string
	MessageID        string `json:"MessageId"`
	Token            string
	TopicArn         string
	Subject          *string // signed only when present
	Message          string
	SubscribeURL     string
	Timestamp        string
	SignatureVersion string
	Signature        string
	SigningCertURL   string
}

// snsHost is the only kind of host SNS certificates and subscription URLs are taken from.
var snsHost = regexp.MustCompile(`^sns\.[a-z0-9-]+\.amazonaws\.com$`)

// snsURL checks that u is https on an sns.<region>.amazonaws.com host.
func snsURL(u string) (*url.URL, error) {
	p, err := url.Parse(u)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL", u)
	}
	if p.Scheme != "https" || p.User != nil || p.Port() != "" || !snsHost.MatchString(strings.ToLower(p.Hostname())) {
		return nil, fmt.Errorf("%q is not an https URL on an sns.<region>.amazonaws.com host", u)
	}
	return p, nil
}

// stringToSign is the text SNS signs: named fields in a fixed order, each "Name\nvalue\n".
func (m *snsMessage) stringToSign() (string, error) {
	var fields []string // name, value, name, value...
	switch m.Type {
	case "Notification":
		fields = []string{"Message", m.Message, "MessageId", m.MessageID}
		if m.Subject != nil {
			fields = append(fields, "Subject", *m.Subject)
		}
		fields = append(fields, "Timestamp", m.Timestamp, "TopicArn", m.TopicArn, "Type", m.Type)
	case "SubscriptionConfirmation", "UnsubscribeConfirmation":
		fields = []string{"Message", m.Message, "MessageId", m.MessageID, "SubscribeURL", m.SubscribeURL,
			"Timestamp", m.Timestamp, "Token", m.Token, "TopicArn", m.TopicArn, "Type", m.Type}
	default:
		return "", fmt.Errorf("unknown SNS message type %q", m.Type)
	}
	return strings.Join(fields, "\n") + "\n", nil
}

// errForged is a signature that does not verify.
var errForged = errors.New("signature does not verify")

// verifySNS checks the message's signature with the certificate at SigningCertURL.
func (h *Handler) verifySNS(ctx context.Context, m *snsMessage) error {
	text, err := m.stringToSign()
	if err != nil {
		return fmt.Errorf("%w: %v", errForged, err)
	}
	hash, ok := map[string]crypto.Hash{"1": crypto.SHA1, "2": crypto.SHA256}[m.SignatureVersion]
	if !ok {
		return fmt.Errorf("%w: unknown SignatureVersion %q", errForged, m.SignatureVersion)
	}
	d := hash.New()
	d.Write([]byte(text))
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("%w: Signature is not base64", errForged)
	}
	if _, err := snsURL(m.SigningCertURL); err != nil {
		return fmt.Errorf("%w: SigningCertURL %v", errForged, err)
	}
	cert, err := h.cert(ctx, m.SigningCertURL)
	if err != nil {
		return err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: the signing certificate has no RSA key", errForged)
	}
	if now := h.opt.Now(); now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return fmt.Errorf("%w: the signing certificate is not valid now", errForged)
	}
	if err := rsa.VerifyPKCS1v15(pub, hash, d.Sum(nil), sig); err != nil {
		return errForged
	}
	return nil
}

// certCacheSize bounds the signing certificates kept; SNS uses one per region at a time,
// so emptying the cache when it is full costs a fetch at most now and then.
const certCacheSize = 16

// maxCertBytes caps a fetched certificate; a real one is under 2 KB.
const maxCertBytes = 64 << 10

// errFetch is a certificate or confirmation URL that could not be fetched: the provider
// should try again later.
var errFetch = errors.New("fetch failed")

// cert returns the certificate at u (checked by snsURL), fetched once.
func (h *Handler) cert(ctx context.Context, u string) (*x509.Certificate, error) {
	h.mu.Lock()
	c := h.certs[u]
	h.mu.Unlock()
	if c != nil {
		return c, nil
	}
	body, err := h.fetch(ctx, u, maxCertBytes)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(body)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: %s is not a PEM certificate", errForged, u)
	}
	c, err = x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errForged, u, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.certs) >= certCacheSize {
		clear(h.certs)
	}
	h.certs[u] = c
	return c, nil
}

// fetch GETs u and returns up to max bytes of a 200 answer.
func (h *Handler) fetch(ctx context.Context, u string, max int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errFetch, err)
	}
	resp, err := h.opt.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errFetch, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s answered %s", errFetch, u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errFetch, err)
	}
	return b, nil
}

func (h *Handler) ses(w http.ResponseWriter, r *http.Request) {
	const provider = "ses"
	body, ok := h.readBody(w, r, provider)
	if !ok {
		return
	}
	var m snsMessage
	if err := json.Unmarshal(body, &m); err != nil {
		h.refuse(w, provider, http.StatusBadRequest, "not an SNS message: "+err.Error())
		return
	}
	if m.TopicArn != h.opt.SES.TopicARN {
		h.refuse(w, provider, http.StatusForbidden, fmt.Sprintf("topic %q is not bounces.webhooks.ses.topic_arn", m.TopicArn))
		return
	}
	if err := h.verifySNS(r.Context(), &m); err != nil {
		code := http.StatusForbidden
		if errors.Is(err, errFetch) {
			code = http.StatusServiceUnavailable
		}
		h.refuse(w, provider, code, err.Error())
		return
	}
	switch m.Type {
	case "SubscriptionConfirmation":
		if _, err := snsURL(m.SubscribeURL); err != nil {
			h.refuse(w, provider, http.StatusForbidden, "SubscribeURL "+err.Error())
			return
		}
		if _, err := h.fetch(r.Context(), m.SubscribeURL, 64<<10); err != nil {
			h.refuse(w, provider, http.StatusBadGateway, "confirming the subscription: "+err.Error())
			return
		}
		h.opt.Logger.Info("webhook: SNS subscription confirmed", "provider", provider, "topic", m.TopicArn)
		w.Write([]byte("subscription confirmed\n"))
		return
	case "UnsubscribeConfirmation":
		h.opt.Logger.Warn("webhook: SNS subscription ended", "provider", provider, "topic", m.TopicArn)
		w.Write([]byte("ok\n"))
		return
	}
	reps, ignored, err := h.sesReports([]byte(m.Message))
	if err != nil {
		h.refuse(w, provider, http.StatusBadRequest, err.Error())
		return
	}
	h.apply(w, r, provider, reps, ignored)
}

// sesNotification is the part of an SES bounce or complaint notification read here;
// event publishing names the type eventType.
type sesNotification struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Mail             struct {
		Source        string `json:"source"`
		MessageID     string `json:"messageId"`
		CommonHeaders struct {
			MessageID string `json:"messageId"`
		} `json:"commonHeaders"`
		Headers []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
	} `json:"mail"`
	Bounce struct {
		BounceType        string `json:"bounceType"`
		BounceSubType     string `json:"bounceSubType"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Action         string `json:"action"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
		Timestamp  string `json:"timestamp"`
		FeedbackID string `json:"feedbackId"`
	} `json:"bounce"`
	Complaint struct {
		ComplainedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
		Timestamp             string `json:"timestamp"`
		FeedbackID            string `json:"feedbackId"`
		ComplaintFeedbackType string `json:"complaintFeedbackType"`
		ComplaintSubType      string `json:"complaintSubType"`
	} `json:"complaint"`
}

// sesReports reads one SES notification: a report per bounced or complaining recipient.
// Other notifications (Delivery, Send, Open...) are ignored, and so is text that is not
// JSON: SES publishes a plain-text notice when an event destination is set up.
func (h *Handler) sesReports(msg []byte) (reps []bounce.Report, ignored int, err error) {
	if !json.Valid(msg) {
		return nil, 1, nil
	}
	var n sesNotification
	if err := json.Unmarshal(msg, &n); err != nil {
		return nil, 0, fmt.Errorf("the SNS Message is not an SES notification: %w", err)
	}
	kind := cmp.Or(n.NotificationType, n.EventType)
	// SES rewrites the Message-ID header; the original one is among mail.headers.
	mid := ""
	for _, hd := range n.Mail.Headers {
		if strings.EqualFold(hd.Name, "Message-ID") {
			mid = bareID(hd.Value)
		}
	}
	mid = cmp.Or(mid, bareID(n.Mail.CommonHeaders.MessageID))
	base := bounce.Report{Format: SourceSES, MessageID: mid, VERPToken: h.verp(n.Mail.Source)}
	switch kind {
	case "Bounce":
		b := n.Bounce
		base.Date = parseTime(b.Timestamp)
		base.ReportID = b.FeedbackID
		for _, rc := range b.BouncedRecipients {
			rep := base
			rep.FinalRecipient, rep.Status = rc.EmailAddress, rc.Status
			rep.Kind = bounce.Soft
			if b.BounceType == "Permanent" {
				rep.Kind = bounce.Hard
			}
			rep.Reason = cmp.Or(oneLine(rc.DiagnosticCode), oneLine(b.BounceType+" "+b.BounceSubType))
			reps = append(reps, rep)
		}
	case "Complaint":
		c := n.Complaint
		// A recipient who says the message is not spam is not complaining.
		if c.ComplaintFeedbackType == "not-spam" {
			return nil, 1, nil
		}
		base.Kind, base.Date, base.ReportID = bounce.Complaint, parseTime(c.Timestamp), c.FeedbackID
		base.Reason = "complaint"
		if c.ComplaintFeedbackType != "" {
			base.Reason = "complaint: " + oneLine(c.ComplaintFeedbackType)
		}
		// SES did not send to an address on its account-level suppression list: an old
		// complaint, which without the Message-ID and VERP token is not this issue's.
		if c.ComplaintSubType == "OnAccountSuppressionList" {
			base.Reason = "complaint (SES's account-level suppression list)"
			base.MessageID, base.VERPToken = "", ""
		}
		for _, rc := range c.ComplainedRecipients {
			rep := base
			rep.FinalRecipient = rc.EmailAddress
			reps = append(reps, rep)
		}
	default:
		return nil, 1, nil
	}
	if len(reps) == 0 {
		ignored = 1
	}
	return reps, ignored, nil
}

// parseTime reads a provider's RFC 3339 time; zero when it has none.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}
