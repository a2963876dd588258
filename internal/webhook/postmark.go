package webhook

import (
	"cmp"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"

	"newsletter/internal/bounce"
)

// Postmark configures POST /webhooks/postmark, authenticated by HTTP Basic auth with
// the user and password set in the webhook's URL at Postmark.
type Postmark struct {
	User, Password string
}

// postmarkRecord is the part of a Postmark Bounce or SpamComplaint webhook read here.
type postmarkRecord struct {
	RecordType string
	ID         int64
	Type       string
	Email      string
	Details    string
	BouncedAt  string
	MessageID  string // Postmark's own id of the message
	// Description is Postmark's explanation of Type, used when Details is empty.
	Description string
}

// postmarkKinds reads a Bounce record's Type: the address does not take mail (hard), a
// temporary failure or a refusal of the content (soft: SpamNotification, as SES's
// ContentRejected and SendGrid's blocked), or a complaint; the other types (AutoResponder,
// Subscribe, OpenRelayTest...) are not bounces.
var postmarkKinds = map[string]bounce.Kind{"HardBounce": bounce.Hard, "BadEmailAddress": bounce.Hard,
	"SoftBounce": bounce.Soft, "Transient": bounce.Soft, "DnsError": bounce.Soft, "Blocked": bounce.Soft,
	"SpamNotification": bounce.Soft, "SpamComplaint": bounce.Complaint}

func (h *Handler) postmark(w http.ResponseWriter, r *http.Request) {
	const provider = "postmark"
	user, pass, ok := r.BasicAuth()
	if !ok || !h.postmarkAuth(user, pass) {
		w.Header().Set("WWW-Authenticate", `Basic realm="webhooks", charset="UTF-8"`)
		h.refuse(w, provider, http.StatusUnauthorized, "missing or wrong user and password")
		return
	}
	body, ok := h.readBody(w, r, provider)
	if !ok {
		return
	}
	reps, ignored, err := postmarkReports(body)
	if err != nil {
		h.refuse(w, provider, http.StatusBadRequest, err.Error())
		return
	}
	h.apply(w, r, provider, reps, ignored)
}

// postmarkAuth compares both halves in constant time, whatever their lengths.
func (h *Handler) postmarkAuth(user, pass string) bool {
	eq := func(a, b string) int {
		x, y := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
		return subtle.ConstantTimeCompare(x[:], y[:])
	}
	return eq(user, h.opt.Postmark.User)&eq(pass, h.opt.Postmark.Password) == 1
}

// postmarkReports reads one Postmark webhook; record and bounce types that are not bounces
// or complaints are ignored.
func postmarkReports(body []byte) (reps []bounce.Report, ignored int, err error) {
	var rec postmarkRecord
	if err := json.Unmarshal(body, &rec); err != nil {
		return nil, 0, fmt.Errorf("not a Postmark webhook: %w", err)
	}
	rep := bounce.Report{Format: SourcePostmark, FinalRecipient: rec.Email, Date: parseTime(rec.BouncedAt),
		Reason: oneLine(rec.Details)}
	rep.Reason = cmp.Or(rep.Reason, oneLine(rec.Description))
	if rec.ID != 0 {
		rep.ReportID = fmt.Sprintf("postmark:%d", rec.ID)
	}
	switch rec.RecordType {
	case "SpamComplaint":
		rep.Kind = bounce.Complaint
	case "Bounce":
		rep.Kind = postmarkKinds[rec.Type]
	}
	if rep.Kind == "" {
		return nil, 1, nil
	}
	// A delay (Transient) and the soft bounce that may follow it are one soft bounce.
	if rep.Kind == bounce.Soft && rec.MessageID != "" {
		rep.ReportID = "postmark-message:" + rec.MessageID
	}
	return []bounce.Report{rep}, 0, nil
}
