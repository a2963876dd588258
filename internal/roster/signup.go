package roster

import (
	"context"
	"errors"
	"fmt"

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

// SignUp stores the address as pending and mails a confirmation link. An active
// address gets nothing. Someone who left, bounced or was erased may come back this way:
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
	if !created {
		switch sub.Status {
		case newsletter.StatusActive:
			return SignUpAlreadyActive, nil
		case newsletter.StatusPending:
			// Mail the link again (the rate limit keeps this from becoming a mail cannon).
		default:
			if _, err := s.opt.Store.ApplyTransition(ctx, store.Transition{
				ID: sub.ID, Status: newsletter.StatusPending,
				Event: store.ConsentEvent{Event: "joined", Source: "web", IP: req.IP},
			}, now); err != nil {
				return "", err
			}
			sub.Status = newsletter.StatusPending
		}
	}
	link := s.opt.BaseURL + "/confirm/" + s.opt.Tokens.MakeExpiring(token.Confirm, sub.ID, sub.Email, now.Add(s.opt.ConfirmTTL))
	if s.opt.Confirmations == nil {
		s.opt.Logger.Warn("sign-up stored but no confirmation mailer configured", "subscriber_id", sub.ID)
		return SignUpMailed, nil
	}
	if err := s.opt.Confirmations.SendConfirmation(ctx, sub, link); err != nil {
		return "", fmt.Errorf("roster: confirmation for subscriber %d: %w", sub.ID, err)
	}
	return SignUpMailed, nil
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
