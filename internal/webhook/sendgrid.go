package webhook

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"newsletter/internal/bounce"
)

// SendGrid configures POST /webhooks/sendgrid, the Signed Event Webhook.
type SendGrid struct {
	// PublicKey is the verification key SendGrid shows for the signed webhook: base64
	// of the DER (SubjectPublicKeyInfo) of an ECDSA P-256 key.
	PublicKey string
}

// SendGrid's signature headers.
const (
	sendgridSignature = "X-Twilio-Email-Event-Webhook-Signature"
	sendgridTimestamp = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// parseSendGridKey reads the signed event webhook's verification key.
func parseSendGridKey(s string) (*ecdsa.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, errors.New("webhook: sendgrid: the public key is not base64")
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("webhook: sendgrid: the public key is not a DER public key: %w", err)
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, errors.New("webhook: sendgrid: the public key is not an ECDSA P-256 key")
	}
	return pub, nil
}

// sendgridVerify checks the ECDSA signature of timestamp followed by the raw body.
func sendgridVerify(pub *ecdsa.PublicKey, sig, timestamp string, body []byte) bool {
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	d := sha256.New()
	d.Write([]byte(timestamp))
	d.Write(body)
	return ecdsa.VerifyASN1(pub, d.Sum(nil), raw)
}

// sendgridEvent is the part of one Event Webhook event read here.
type sendgridEvent struct {
	Email     string `json:"email"`
	Event     string `json:"event"`
	Timestamp int64  `json:"timestamp"`
	SMTPID    string `json:"smtp-id"`
	EventID   string `json:"sg_event_id"`
	MessageID string `json:"sg_message_id"`
	Reason    string `json:"reason"`
	Response  string `json:"response"`
	Status    string `json:"status"`
	Type      string `json:"type"` // bounce or blocked, for a bounce event
}

func (h *Handler) sendgridEvents(w http.ResponseWriter, r *http.Request) {
	const provider = "sendgrid"
	body, ok := h.readBody(w, r, provider)
	if !ok {
		return
	}
	sig, ts := r.Header.Get(sendgridSignature), r.Header.Get(sendgridTimestamp)
	if sig == "" || ts == "" {
		h.refuse(w, provider, http.StatusUnauthorized, "no "+sendgridSignature+" or "+sendgridTimestamp+" header")
		return
	}
	if !sendgridVerify(h.sendgrid, sig, ts, body) {
		h.refuse(w, provider, http.StatusForbidden, "the signature does not verify")
		return
	}
	reps, ignored, err := sendgridReports(body)
	if err != nil {
		h.refuse(w, provider, http.StatusBadRequest, err.Error())
		return
	}
	h.apply(w, r, provider, reps, ignored)
}

// sendgridReports reads a batch of events: bounces, drops of bounced or reported
// addresses, spam reports and deferrals; other events are counted as ignored.
func sendgridReports(body []byte) (reps []bounce.Report, ignored int, err error) {
	var events []sendgridEvent
	if err := json.Unmarshal(body, &events); err != nil {
		return nil, 0, fmt.Errorf("not a SendGrid event batch: %w", err)
	}
	for _, ev := range events {
		rep := bounce.Report{Format: SourceSendGrid, FinalRecipient: ev.Email, MessageID: bareID(ev.SMTPID),
			Status: ev.Status, Reason: oneLine(ev.Reason), ReportID: ev.EventID}
		if ev.Timestamp > 0 {
			rep.Date = time.Unix(ev.Timestamp, 0).UTC()
		}
		switch ev.Event {
		case "bounce":
			// A block is the receiving server refusing for now (reputation, content).
			rep.Kind = bounce.Hard
			if ev.Type == "blocked" || strings.HasPrefix(ev.Status, "4") {
				rep.Kind = bounce.Soft
			}
		case "deferred":
			rep.Kind, rep.Reason = bounce.Soft, oneLine(ev.Response)
		case "spamreport":
			rep.Kind, rep.Reason = bounce.Complaint, "complaint: spam report"
		case "dropped":
			// SendGrid did not send because of its own lists; only some reasons are ours to count.
			switch strings.ToLower(ev.Reason) {
			case "bounced address", "invalid":
				rep.Kind = bounce.Hard
			case "spam reporting address":
				// An old complaint, not one about this message: without its Message-ID
				// it is not counted against the issue (canary, complaint alarm).
				rep.Kind, rep.MessageID = bounce.Complaint, ""
				rep.Reason = "complaint (SendGrid's spam report list)"
			default:
				ignored++
				continue
			}
		default:
			ignored++
			continue
		}
		// SendGrid reports each deferral of a message; they are one soft bounce.
		if rep.Kind == bounce.Soft && ev.MessageID != "" {
			rep.ReportID = "sendgrid:" + ev.MessageID
		}
		reps = append(reps, rep)
	}
	return reps, ignored, nil
}
