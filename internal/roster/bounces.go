package roster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"newsletter/internal/bounce"
	"newsletter/internal/newsletter"
	"newsletter/internal/store"
	"newsletter/internal/token"
)

// BounceRules tune ApplyReport.
type BounceRules struct {
	// MessageIDDomain is the right-hand side of the Message-IDs delivery writes; a
	// returned Message-ID elsewhere is not ours.
	MessageIDDomain string
	// SignedOnly trusts only signed tokens (VERP, the unsubscribe link's) to name a
	// subscriber: with VERP on, every real bounce carries one, while a Message-ID or a
	// Final-Recipient can be written by anyone who can mail the bounce address.
	SignedOnly bool
	// RecipientMustMatch refuses a Message-ID that names a subscriber other than the
	// report's recipient (when it gives one): a provider's webhook names both.
	RecipientMustMatch bool
	store.BounceRules
}

// How a report's subscriber was found.
const (
	ByVERP           = "verp"
	ByMessageID      = "message-id"
	ByUnsubscribe    = "list-unsubscribe"
	ByFinalRecipient = "final-recipient"
)

// BounceOutcome is what ApplyReport made of one report.
type BounceOutcome struct {
	Subscriber newsletter.Subscriber // zero when nobody on the list was found
	IssueID    int64                 // 0 when the report does not say which issue
	By         string                // how the subscriber was found
	Result     store.BounceResult    // what was recorded; zero when nothing was
	Recorded   bool
	// Skipped says, when nothing was recorded, why (not a bounce, nobody found, a forged token).
	Skipped string
}

// ApplyReport finds the subscriber a parsed report is about and records it: by the
// VERP token (a token that does not verify changes nothing), else the returned
// Message-ID (only with a delivery of that issue to that subscriber in the ledger), else
// the List-Unsubscribe token, else the Final-Recipient when it is on the list.
func (s *Service) ApplyReport(ctx context.Context, rep bounce.Report, rules BounceRules) (BounceOutcome, error) {
	if rep.Kind == bounce.Unsubscribe {
		return s.mailtoUnsubscribe(ctx, rep)
	}
	var out BounceOutcome
	kind, ok := map[bounce.Kind]string{bounce.Hard: store.BounceHard, bounce.Soft: store.BounceSoft, bounce.Complaint: store.BounceComplaint}[rep.Kind]
	if !ok {
		out.Skipped = rep.Reason
		return out, nil
	}
	sub, issueID, by, why, err := s.identify(ctx, rep, rules)
	if err != nil {
		return out, err
	}
	if by == "" {
		out.Skipped = why
		return out, nil
	}
	out.Subscriber, out.IssueID, out.By = sub, issueID, by
	source := cmp.Or(rep.Format, bounce.FormatDSN)
	res, err := s.opt.Store.RecordBounce(ctx, store.BounceEvent{
		SubscriberID: sub.ID, IssueID: issueID, Kind: kind, Status: rep.Status, Reason: rep.Reason,
		Source: source, ReportedAt: rep.Date, ReportID: rep.ReportID,
	}, s.opt.Tokens.Digest(sub.Email), rules.BounceRules, s.opt.Now())
	if errors.Is(err, newsletter.ErrNotFound) {
		out.Skipped = "the subscriber is gone (erased?)"
		return out, nil
	}
	if err != nil {
		return out, err
	}
	out.Result, out.Recorded = res, !res.Duplicate
	if res.Duplicate {
		out.Skipped = "already recorded"
	}
	return out, nil
}

// mailtoUnsubscribe unsubscribes the subscriber whose List-Unsubscribe token a message
// to the mailto: address carries (RFC 8058 asks senders to honour it as they honour the
// one-click POST). A forged or unknown token changes nothing; so does a request from an
// address that is no longer subscribed (a bounce or complaint keeps its reason).
func (s *Service) mailtoUnsubscribe(ctx context.Context, rep bounce.Report) (BounceOutcome, error) {
	var out BounceOutcome
	sub, ok, err := s.byUnsubscribeToken(ctx, rep.UnsubscribeToken)
	if err != nil {
		return out, err
	}
	if !ok {
		out.Skipped = "the unsubscribe token is forged, malformed or names nobody on the list: nothing changed"
		return out, nil
	}
	out.Subscriber, out.By = sub, ByUnsubscribe
	if sub.Status != newsletter.StatusActive && sub.Status != newsletter.StatusPending {
		out.Skipped = "not subscribed (status " + string(sub.Status) + ")"
		return out, nil
	}
	changed, err := s.opt.Store.ApplyTransition(ctx, store.Transition{
		ID: sub.ID, Status: newsletter.StatusUnsubscribed,
		Event: store.ConsentEvent{Event: "left", Source: bounce.FormatMailto, At: rep.Date, Detail: rep.Reason},
		Hash:  s.opt.Tokens.Digest(sub.Email), Suppress: store.SuppressUnsubscribed,
	}, s.opt.Now())
	if err != nil {
		return out, err
	}
	if !changed {
		out.Skipped = "already unsubscribed"
		return out, nil
	}
	out.Recorded = true
	out.Result = store.BounceResult{Suppressed: store.SuppressUnsubscribed, Status: newsletter.StatusUnsubscribed}
	return out, nil
}

// identify returns the subscriber and issue a report is about and how they were found;
// by is empty, with why, when nobody was.
func (s *Service) identify(ctx context.Context, rep bounce.Report, rules BounceRules) (sub newsletter.Subscriber, issueID int64, by, why string, err error) {
	if rep.VERPToken != "" {
		is, id, perr := token.ParseVERP(rep.VERPToken)
		if perr != nil {
			return sub, 0, "", "VERP token is malformed or forged: nothing changed", nil
		}
		sub, err = s.opt.Store.SubscriberByID(ctx, id)
		if errors.Is(err, newsletter.ErrNotFound) {
			return sub, 0, "", "VERP token names no subscriber on the list: nothing changed", nil
		}
		if err != nil {
			return sub, 0, "", "", err
		}
		if !s.opt.Tokens.CheckVERP(rep.VERPToken, is, id, sub.Email) {
			return newsletter.Subscriber{}, 0, "", "VERP token is forged (or its subscriber was erased and the id reused): nothing changed", nil
		}
		return sub, is, ByVERP, "", nil
	}
	if rules.SignedOnly {
		if rep.UnsubscribeToken == "" {
			return newsletter.Subscriber{}, 0, "", "no signed token in the report (with sender.verp on, Message-IDs and recipients are not trusted): nothing changed", nil
		}
		sub, ok, err := s.byUnsubscribeToken(ctx, rep.UnsubscribeToken)
		if err != nil || !ok {
			return sub, 0, "", "the unsubscribe token in the report is forged or names nobody: nothing changed", err
		}
		// A Message-ID naming the same subscriber, with that delivery in the ledger, says
		// which issue the report is about.
		if is, id, ok := parseMessageID(rep.MessageID, rules.MessageIDDomain); ok && id == sub.ID {
			if _, err := s.opt.Store.DeliveryStatus(ctx, is, id); err == nil {
				return sub, is, ByUnsubscribe, "", nil
			} else if !errors.Is(err, newsletter.ErrNotFound) {
				return sub, 0, "", "", err
			}
		}
		return sub, 0, ByUnsubscribe, "", nil
	}
	if is, id, ok := parseMessageID(rep.MessageID, rules.MessageIDDomain); ok {
		week, _ := newsletter.ParseWeek(strings.SplitN(rep.MessageID, ".", 2)[0])
		issue, ierr := s.opt.Store.IssueByID(ctx, is)
		_, derr := s.opt.Store.DeliveryStatus(ctx, is, id)
		switch {
		case ierr == nil && derr == nil && issue.Week == week:
			if sub, err = s.opt.Store.SubscriberByID(ctx, id); err == nil {
				if rules.RecipientMustMatch && rep.FinalRecipient != "" && !sameAddress(rep.FinalRecipient, sub.Email) {
					return newsletter.Subscriber{}, 0, "", "the Message-ID names a subscriber other than the recipient: nothing changed", nil
				}
				return sub, is, ByMessageID, "", nil
			}
			if !errors.Is(err, newsletter.ErrNotFound) {
				return sub, 0, "", "", err
			}
		case ierr != nil && !errors.Is(ierr, newsletter.ErrNotFound):
			return sub, 0, "", "", ierr
		case derr != nil && !errors.Is(derr, newsletter.ErrNotFound):
			return sub, 0, "", "", derr
		}
	}
	if tok := rep.UnsubscribeToken; tok != "" {
		if sub, ok, err := s.byUnsubscribeToken(ctx, tok); ok || err != nil {
			return sub, 0, ByUnsubscribe, "", err
		}
	}
	if rep.FinalRecipient != "" {
		_, sub, found, err := s.lookup(ctx, rep.FinalRecipient)
		if found || err != nil && !errors.Is(err, ErrBadInput) {
			return sub, 0, ByFinalRecipient, "", err
		}
		return newsletter.Subscriber{}, 0, "", fmt.Sprintf("%s is not on the list: nothing changed", rep.FinalRecipient), nil
	}
	return newsletter.Subscriber{}, 0, "", "no VERP token, Message-ID, unsubscribe token or recipient of ours in the report: nothing changed", nil
}

// sameAddress reports whether a report's recipient is the subscriber's address.
func sameAddress(recipient, email string) bool {
	addr, err := Normalize(recipient)
	return err == nil && addr == email
}

// byUnsubscribeToken finds the subscriber an unsubscribe link's token was signed for; ok
// is false when the token is malformed, forged or names nobody on the list.
func (s *Service) byUnsubscribeToken(ctx context.Context, tok string) (sub newsletter.Subscriber, ok bool, err error) {
	id, err := s.opt.Tokens.ID(tok)
	if err != nil {
		return sub, false, nil
	}
	sub, err = s.opt.Store.SubscriberByID(ctx, id)
	if errors.Is(err, newsletter.ErrNotFound) || err == nil && !s.opt.Tokens.Check(token.Unsubscribe, tok, id, sub.Email) {
		return newsletter.Subscriber{}, false, nil
	}
	return sub, err == nil, err
}

// parseMessageID reads the ids out of a Message-ID that delivery wrote,
// WEEK.ISSUE.SUBSCRIBER@domain, also with further dot-separated components after the
// subscriber (a per-install part). Test copies (WEEK.test...) and other mail are not ours.
func parseMessageID(mid, domain string) (issueID, subscriberID int64, ok bool) {
	local, dom, found := strings.Cut(mid, "@")
	if !found || domain == "" || !strings.EqualFold(dom, domain) {
		return 0, 0, false
	}
	parts := strings.Split(local, ".")
	if len(parts) < 3 {
		return 0, 0, false
	}
	if _, err := newsletter.ParseWeek(parts[0]); err != nil {
		return 0, 0, false
	}
	is, err1 := strconv.ParseInt(parts[1], 10, 64)
	id, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || is <= 0 || id <= 0 {
		return 0, 0, false
	}
	return is, id, true
}
