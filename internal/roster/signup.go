package roster

import (
	"context"
	"errors"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/store"
	"newsletter/internal/subscriber"
	"newsletter/internal/token"
)

// ErrLinkInvalid is returned for a confirmation link that is forged, truncated, made
// for someone else or no longer applies; ErrLinkExpired for one whose time is up.
var (
	ErrLinkInvalid = errors.New("confirmation link is not valid")
	ErrLinkExpired = errors.New("confirmation link has expired")
)

// SignUp is a web sign-up.
type SignUp struct {
	Email string
	Name  string
	IP    string
}

// SignUpOutcome says what a sign-up did, for logs and tests only: the page shown to
// the visitor is the same whatever it says, so it never reveals who is on the list.
type SignUpOutcome string

// Sign-up outcomes.
const (
	SignUpMailed        SignUpOutcome = "mailed"         // pending (new or again), confirmation sent
	SignUpAlreadyActive SignUpOutcome = "already_active" // nothing sent: no second welcome
)

// SignUp stores the address as pending and queues its confirmation mail, which
// RunConfirmations sends outside the request. An active address is queued too, so that
// every sign-up takes the same path and time whoever asks; its mail is dropped, not sent
// (no second welcome). Someone who left, bounced or was erased may come back this way:
// only their own click on the link activates them (and takes them off the suppression
// list).
func (s *Service) SignUp(ctx context.Context, req SignUp) (SignUpOutcome, error) {
	addr, err := Normalize(req.Email)
	if err != nil {
		return "", err
	}
	now := s.opt.Now()
	sub, created, err := s.opt.Store.AddSubscriberLogged(ctx, newsletter.Subscriber{
		Email: addr, Name: subscriber.CleanName(req.Name), Status: newsletter.StatusPending, Source: "web",
	}, store.ConsentEvent{Event: "joined", Source: "web", IP: req.IP}, now)
	if err != nil {
		return "", err
	}
	outcome := SignUpMailed
	if !created {
		switch sub.Status {
		case newsletter.StatusActive:
			outcome = SignUpAlreadyActive
		case newsletter.StatusPending:
			// Mail the link again (the rate limit keeps this from becoming a mail cannon).
		default:
			if _, err := s.opt.Store.ApplyTransition(ctx, store.Transition{
				ID: sub.ID, Status: newsletter.StatusPending,
				Event: store.ConsentEvent{Event: "joined", Source: "web", IP: req.IP},
			}, now); err != nil {
				return "", err
			}
		}
	}
	if err := s.opt.Store.QueueConfirmation(ctx, sub.ID, now); err != nil {
		return "", err
	}
	select {
	case s.queued <- struct{}{}:
	default:
	}
	return outcome, nil
}

// How the confirmation queue is sent.
const (
	confirmBatch    = 50              // queued confirmations one pass sends at most
	confirmClaim    = 5 * time.Minute // how long one process holds one it is sending
	confirmAttempts = 12              // tries before one is given up: about a day with confirmRetry
)

// confirmRetry is the wait after the nth failed try: a minute, doubling, at most two hours.
func confirmRetry(n int) time.Duration {
	return min(time.Minute<<min(n-1, 7), 2*time.Hour)
}

// SendQueuedConfirmations mails the confirmations that are due and says how many went out.
// One that fails is tried again later; one whose subscriber is no longer pending is dropped.
func (s *Service) SendQueuedConfirmations(ctx context.Context) (int, error) {
	if s.opt.Confirmations == nil {
		return 0, nil
	}
	now := s.opt.Now()
	due, err := s.opt.Store.DueConfirmations(ctx, now, confirmBatch)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, q := range due {
		// Another serve may be sending the queue too: only the one that claims a row mails it.
		// A process that dies holding a claim leaves the row due again when the claim ends.
		ok, err := s.opt.Store.ClaimConfirmation(ctx, q.SubscriberID, now, now.Add(confirmClaim))
		if err != nil {
			return sent, err
		}
		if !ok {
			continue
		}
		sub, err := s.opt.Store.SubscriberByID(ctx, q.SubscriberID)
		if err != nil && !errors.Is(err, newsletter.ErrNotFound) {
			return sent, err
		}
		pending := err == nil && sub.Status == newsletter.StatusPending
		var mailErr error
		if pending {
			expires := now.Add(s.opt.ConfirmTTL)
			link := s.opt.BaseURL + "/confirm/" + s.opt.Tokens.MakeExpiring(token.Confirm, sub.ID, sub.Email, expires)
			mailErr = s.opt.Confirmations.SendConfirmation(ctx, sub, link, expires)
		}
		switch n := q.Attempts + 1; {
		case mailErr == nil: // mailed, or dropped as no longer pending
			err = s.opt.Store.ConfirmationDone(ctx, q.SubscriberID)
		case n >= confirmAttempts:
			s.opt.Logger.Error("confirmation given up", "subscriber_id", sub.ID, "attempts", n, "err", mailErr)
			err = s.opt.Store.ConfirmationDone(ctx, q.SubscriberID)
		default:
			s.opt.Logger.Warn("confirmation failed; will retry", "subscriber_id", sub.ID, "attempts", n, "retry_in", confirmRetry(n), "err", mailErr)
			err = s.opt.Store.ConfirmationFailed(ctx, q.SubscriberID, n, now.Add(confirmRetry(n)), mailErr.Error())
		}
		if err != nil {
			return sent, err
		}
		if pending && mailErr == nil {
			sent++
		}
	}
	return sent, nil
}

// RunConfirmations sends queued confirmations until ctx is done: at once after a sign-up,
// and every poll for retries.
func (s *Service) RunConfirmations(ctx context.Context, poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if _, err := s.SendQueuedConfirmations(ctx); err != nil && ctx.Err() == nil {
			s.opt.Logger.Error("sending confirmations", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.queued:
		case <-t.C:
		}
	}
}

// ConfirmTarget checks a confirmation link without acting on it (the GET page).
func (s *Service) ConfirmTarget(ctx context.Context, tok string) (newsletter.Subscriber, error) {
	id, _, err := token.ParseExpiring(tok)
	if err != nil {
		return newsletter.Subscriber{}, ErrLinkInvalid
	}
	sub, err := s.opt.Store.SubscriberByID(ctx, id)
	if errors.Is(err, newsletter.ErrNotFound) {
		return newsletter.Subscriber{}, ErrLinkInvalid
	}
	if err != nil {
		return newsletter.Subscriber{}, err
	}
	switch s.opt.Tokens.CheckExpiring(token.Confirm, tok, sub.ID, sub.Email, s.opt.Now()) {
	case nil:
	case token.ErrExpired:
		return newsletter.Subscriber{}, ErrLinkExpired
	default:
		return newsletter.Subscriber{}, ErrLinkInvalid
	}
	// The link was for joining: once someone has left again (or bounced), an old link
	// must not bring them back.
	if sub.Status != newsletter.StatusPending && sub.Status != newsletter.StatusActive {
		return newsletter.Subscriber{}, ErrLinkInvalid
	}
	return sub, nil
}

// Confirm activates the subscriber a valid link was made for. Confirming twice is harmless.
func (s *Service) Confirm(ctx context.Context, tok, ip string) (newsletter.Subscriber, error) {
	sub, err := s.ConfirmTarget(ctx, tok)
	if err != nil {
		return sub, err
	}
	if sub.Status == newsletter.StatusActive {
		return sub, nil
	}
	_, err = s.opt.Store.ApplyTransition(ctx, store.Transition{
		ID: sub.ID, Status: newsletter.StatusActive,
		Event: store.ConsentEvent{Event: "confirmed", Source: "web", IP: ip},
		Hash:  s.opt.Tokens.Digest(sub.Email), Unsuppress: true,
	}, s.opt.Now())
	if err != nil {
		return sub, err
	}
	sub.Status = newsletter.StatusActive
	return sub, nil
}
