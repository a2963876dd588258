// Package webhook takes the bounce and complaint webhooks of mail providers (Amazon SES
// through SNS, Postmark, SendGrid, Mailgun), authenticates each as its provider documents,
// and hands what it reports to the code `bounces process` uses.
package webhook

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"newsletter/internal/bounce"
	"newsletter/internal/roster"
)

// Applier records one report: roster.Service.ApplyReport.
type Applier interface {
	ApplyReport(ctx context.Context, rep bounce.Report, rules roster.BounceRules) (roster.BounceOutcome, error)
}

// Consent log sources, one per provider.
const (
	SourceSES      = "webhook:ses"
	SourcePostmark = "webhook:postmark"
	SourceSendGrid = "webhook:sendgrid"
	SourceMailgun  = "webhook:mailgun"
)

// DefaultMaxBytes caps a webhook's request body.
const DefaultMaxBytes = 1 << 20

// Options configure a Handler. A provider left nil (or empty) has no endpoint: 404.
type Options struct {
	Applier Applier
	// Rules are those of `bounces process`. A webhook's report is authenticated by its
	// provider, so SignedOnly does not apply to it; instead a Message-ID must agree with
	// the recipient the provider names (RecipientMustMatch).
	Rules roster.BounceRules
	// BounceAddress is sender.bounce_address: a VERP envelope sender reported back by the
	// provider (SES mail.source, Mailgun envelope.sender) names the subscriber by its token.
	BounceAddress string

	SES      *SES
	Postmark *Postmark
	SendGrid *SendGrid
	Mailgun  *Mailgun

	MaxBytes int64 // request body cap; 0 means DefaultMaxBytes
	// Client fetches SNS signing certificates and subscription confirmations; nil uses
	// one with a 10s timeout.
	Client *http.Client
	// OnRecorded, when set, hears of each report that changed something (for the
	// complaint alarm).
	OnRecorded func(ctx context.Context, rep bounce.Report, out roster.BounceOutcome)
	Now        func() time.Time
	Logger     *slog.Logger
}

// Handler serves POST /webhooks/{provider}.
type Handler struct {
	opt      Options
	sendgrid *ecdsa.PublicKey
	mu       sync.Mutex                   // guards certs and tokens
	certs    map[string]*x509.Certificate // SNS signing certificates by URL
	// tokens holds the Mailgun signatures' tokens seen within mailgunWindow, by signed
	// timestamp, so that a captured request cannot be played again.
	tokens map[string]time.Time
}

// New checks the providers' secrets and returns a Handler.
func New(opt Options) (*Handler, error) {
	if opt.Applier == nil {
		return nil, errors.New("webhook: no Applier")
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	opt.Client = cmp.Or(opt.Client, &http.Client{Timeout: 10 * time.Second})
	// A redirect would take a fetch off the SNS host it was checked against.
	client := *opt.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	opt.Client = &client
	if opt.Now == nil {
		opt.Now = time.Now
	}
	opt.Logger = cmp.Or(opt.Logger, slog.New(slog.DiscardHandler))
	opt.Rules.SignedOnly = false
	opt.Rules.RecipientMustMatch = true
	h := &Handler{opt: opt, certs: make(map[string]*x509.Certificate), tokens: make(map[string]time.Time)}
	if opt.SES != nil && opt.SES.TopicARN == "" {
		return nil, errors.New("webhook: ses: no topic ARN")
	}
	if opt.Postmark != nil && (opt.Postmark.User == "" || opt.Postmark.Password == "") {
		return nil, errors.New("webhook: postmark: user and password must both be set")
	}
	if opt.SendGrid != nil {
		k, err := parseSendGridKey(opt.SendGrid.PublicKey)
		if err != nil {
			return nil, err
		}
		h.sendgrid = k
	}
	if opt.Mailgun != nil && opt.Mailgun.SigningKey == "" {
		return nil, errors.New("webhook: mailgun: no signing key")
	}
	return h, nil
}

// Register adds the route of every configured provider; the others answer 404.
func (h *Handler) Register(mux *http.ServeMux) {
	if h.opt.SES != nil {
		mux.HandleFunc("POST /webhooks/ses", h.ses)
	}
	if h.opt.Postmark != nil {
		mux.HandleFunc("POST /webhooks/postmark", h.postmark)
	}
	if h.sendgrid != nil {
		mux.HandleFunc("POST /webhooks/sendgrid", h.sendgridEvents)
	}
	if h.opt.Mailgun != nil {
		mux.HandleFunc("POST /webhooks/mailgun", h.mailgunEvent)
	}
}

// readBody reads the body up to the cap, answering the error itself; ok is false when it did.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, provider string) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opt.MaxBytes))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		h.refuse(w, provider, http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", h.opt.MaxBytes))
		return nil, false
	case err != nil:
		h.refuse(w, provider, http.StatusBadRequest, "cannot read the body: "+err.Error())
		return nil, false
	}
	return b, true
}

// refuse answers an error status and logs why, once.
func (h *Handler) refuse(w http.ResponseWriter, provider string, code int, why string) {
	h.opt.Logger.Warn("webhook refused", "provider", provider, "status", code, "reason", why)
	http.Error(w, http.StatusText(code)+": "+why, code)
}

// apply records each report and answers 200 with a summary, or 500 (so the provider tries
// again later; recording is idempotent) when the store failed; it reports whether it answered 200.
func (h *Handler) apply(w http.ResponseWriter, r *http.Request, provider string, reps []bounce.Report, ignored int) bool {
	var recorded, skipped int
	for _, rep := range reps {
		out, err := h.opt.Applier.ApplyReport(r.Context(), rep, h.opt.Rules)
		if err != nil {
			h.opt.Logger.Error("webhook", "provider", provider, "err", err)
			http.Error(w, "cannot record the report now; try again", http.StatusInternalServerError)
			return false
		}
		if out.Recorded {
			recorded++
			h.opt.Logger.Info("webhook report recorded", "provider", provider, "kind", string(rep.Kind),
				"subscriber_id", out.Subscriber.ID, "issue_id", out.IssueID, "by", out.By, "status", string(out.Result.Status))
			if h.opt.OnRecorded != nil {
				h.opt.OnRecorded(r.Context(), rep, out)
			}
			continue
		}
		skipped++
		h.opt.Logger.Info("webhook report skipped", "provider", provider, "kind", string(rep.Kind),
			"subscriber_id", out.Subscriber.ID, "reason", out.Skipped)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "ok: %d recorded, %d skipped, %d ignored\n", recorded, skipped, ignored)
	return true
}

// verp returns the VERP token of an envelope sender the provider reports, "" when it is
// not the bounce address with a token.
func (h *Handler) verp(sender string) string {
	return bounce.VERPToken(h.opt.BounceAddress, bareID(sender))
}

// bareID strips the angle brackets and space around a Message-ID.
func bareID(s string) string {
	return strings.Trim(strings.TrimSpace(s), "<>")
}

// oneLine keeps a provider's text to one line of bounded length for the consent log.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "")
	}
	return s
}
