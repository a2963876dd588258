package webhook

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"time"

	"newsletter/internal/bounce"
)

// Mailgun configures POST /webhooks/mailgun.
type Mailgun struct {
	// SigningKey is the HTTP webhook signing key of the Mailgun account.
	SigningKey string
}

// mailgunWindow is how old (or how far ahead) a signed timestamp may be.
const mailgunWindow = 5 * time.Minute

// mailgunPayload is the part of a Mailgun webhook read here.
type mailgunPayload struct {
	Signature struct {
		// Timestamp is a string in Mailgun's examples and an int in its table: both
		// decode, keeping the digits that were signed.
		Timestamp json.Number `json:"timestamp"`
		Token     string      `json:"token"`
		Signature string      `json:"signature"`
		// ParentSignature is made with the primary account's key when the event is
		// about a subaccount's domain (whose own key made Signature).
		ParentSignature string `json:"parent-signature"`
	} `json:"signature"`
	EventData *struct {
		Event     string  `json:"event"`
		ID        string  `json:"id"`
		Timestamp float64 `json:"timestamp"`
		Severity  string  `json:"severity"`
		Reason    string  `json:"reason"`
		Recipient string  `json:"recipient"`
		Envelope  struct {
			Sender string `json:"sender"`
		} `json:"envelope"`
		Message struct {
			Headers struct {
				MessageID string `json:"message-id"`
			} `json:"headers"`
		} `json:"message"`
		DeliveryStatus struct {
			Code         int    `json:"code"`
			EnhancedCode string `json:"enhanced-code"`
			Message      string `json:"message"`
			Description  string `json:"description"`
		} `json:"delivery-status"`
	} `json:"event-data"`
}

// useToken records a signature's token and reports false when it was already there;
// tokens older than the window, which mailgunVerify refuses anyway, are dropped.
func (h *Handler) useToken(token string, at time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.opt.Now()
	maps.DeleteFunc(h.tokens, func(_ string, ts time.Time) bool { return now.Sub(ts) > mailgunWindow })
	if _, ok := h.tokens[token]; ok {
		return false
	}
	h.tokens[token] = at
	return true
}

// mailgunVerify checks the HMAC-SHA256 of timestamp and token, given as the signature
// or (for a subaccount's event checked with the primary account's key) as the
// parent-signature, and the timestamp's age.
func (h *Handler) mailgunVerify(ts, token, sig, parentSig string) (time.Time, string) {
	got, err := hex.DecodeString(sig)
	if err != nil || ts == "" || token == "" {
		return time.Time{}, "missing or malformed signature"
	}
	parent, err := hex.DecodeString(parentSig)
	if err != nil {
		parent = nil
	}
	mac := hmac.New(sha256.New, []byte(h.opt.Mailgun.SigningKey))
	mac.Write([]byte(ts + token))
	want := mac.Sum(nil)
	if !hmac.Equal(got, want) && !hmac.Equal(parent, want) {
		return time.Time{}, "the signature does not verify"
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return time.Time{}, "the timestamp is not a number"
	}
	at := time.Unix(secs, 0)
	if d := h.opt.Now().Sub(at); d > mailgunWindow || d < -mailgunWindow {
		return time.Time{}, fmt.Sprintf("the signed timestamp is %s away from now (over %s)", d.Round(time.Second), mailgunWindow)
	}
	return at, ""
}

func (h *Handler) mailgunEvent(w http.ResponseWriter, r *http.Request) {
	const provider = "mailgun"
	body, ok := h.readBody(w, r, provider)
	if !ok {
		return
	}
	var p mailgunPayload
	if err := json.Unmarshal(body, &p); err != nil {
		h.refuse(w, provider, http.StatusBadRequest, "not a Mailgun webhook: "+err.Error())
		return
	}
	s := p.Signature
	at, why := h.mailgunVerify(string(s.Timestamp), s.Token, s.Signature, s.ParentSignature)
	if why != "" {
		code := http.StatusForbidden
		if s.Signature == "" {
			code = http.StatusUnauthorized
		}
		h.refuse(w, provider, code, why)
		return
	}
	if !h.useToken(s.Token, at) {
		h.refuse(w, provider, http.StatusForbidden, "the token was used already (a replayed request)")
		return
	}
	reps, ignored := h.mailgunReports(&p)
	if !h.apply(w, r, provider, reps, ignored) {
		// Not handled: the provider may send it again.
		h.mu.Lock()
		delete(h.tokens, s.Token)
		h.mu.Unlock()
	}
}

// mailgunReports reads a failed (permanent: hard, temporary: soft) or complained event;
// any other is ignored.
func (h *Handler) mailgunReports(p *mailgunPayload) (reps []bounce.Report, ignored int) {
	ev := p.EventData
	if ev == nil {
		return nil, 1
	}
	rep := bounce.Report{Format: SourceMailgun, FinalRecipient: ev.Recipient, MessageID: bareID(ev.Message.Headers.MessageID),
		VERPToken: h.verp(ev.Envelope.Sender), ReportID: ev.ID}
	if ev.Timestamp > 0 {
		rep.Date = time.Unix(int64(ev.Timestamp), 0).UTC()
	}
	switch {
	// Mailgun's own lists: it did not send to an address it had seen unsubscribe or complain.
	case ev.Event == "failed" && ev.Reason == "suppress-unsubscribe":
		return nil, 1
	case ev.Event == "failed" && ev.Reason == "suppress-complaint":
		// An old complaint, not one about this message: without its Message-ID and VERP
		// token it is not counted against the issue (canary, complaint alarm).
		rep.Kind, rep.Reason = bounce.Complaint, "complaint (Mailgun's suppression list)"
		rep.MessageID, rep.VERPToken = "", ""
		return []bounce.Report{rep}, 0
	// Given up after retries (old) or refused for the sender's reputation (espblock): the
	// address itself may be fine.
	case ev.Event == "failed" && ev.Severity == "permanent" && (ev.Reason == "old" || ev.Reason == "espblock"):
		rep.Kind = bounce.Soft
	case ev.Event == "failed" && ev.Severity == "permanent":
		rep.Kind = bounce.Hard
	case ev.Event == "failed" && ev.Severity == "temporary":
		rep.Kind = bounce.Soft
	case ev.Event == "complained":
		rep.Kind, rep.Reason = bounce.Complaint, "complaint"
		return []bounce.Report{rep}, 0
	default:
		return nil, 1
	}
	// Mailgun reports each failed attempt at a message and then that it gave up (old):
	// together they are one soft bounce.
	if rep.Kind == bounce.Soft && rep.MessageID != "" {
		rep.ReportID = "mailgun:" + rep.MessageID
	}
	ds := ev.DeliveryStatus
	rep.Status = ds.EnhancedCode
	rep.Reason = cmp.Or(oneLine(ds.Description), oneLine(ds.Message))
	if ds.Code != 0 {
		rep.Reason = oneLine(strconv.Itoa(ds.Code) + " " + rep.Reason)
	}
	return []bounce.Report{rep}, 0
}
