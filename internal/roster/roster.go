// Package roster is the one service behind every change to the list, used by the CLI, the
// admin API and pages and the public sign-up: double opt-in, unsubscribes, suppression,
// GDPR erase, the consent log, import and export.
package roster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/store"
	"newsletter/internal/subscriber"
	"newsletter/internal/token"
)

// ErrBadInput is wrapped by every error caused by the caller's input (a bad address,
// status or file); the CLI exits 2 on it and HTTP answers 400.
var ErrBadInput = errors.New("bad input")

// ErrSuppressed is wrapped when an address is on the suppression list and the request
// would mail it again.
var ErrSuppressed = errors.New("address is on the suppression list")

// Confirmations sends the double opt-in message with its link, which stops working at
// expires.
type Confirmations interface {
	SendConfirmation(ctx context.Context, sub newsletter.Subscriber, link string, expires time.Time) error
}

// Options configure a Service.
type Options struct {
	Store         Store // the database (records.go)
	Tokens        *token.Signer
	Confirmations Confirmations // nil: sign-ups are stored but no mail goes out
	BaseURL       string        // public URL of `newsletter serve`, for confirmation links
	ConfirmTTL    time.Duration // how long a confirmation link works; default 72h
	Now           func() time.Time
	Logger        *slog.Logger
}

// Service is the list's rules.
type Service struct {
	opt Options
	// queued wakes RunConfirmations when a sign-up queued a confirmation.
	queued chan struct{}
}

// New returns a Service.
func New(opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.ConfirmTTL <= 0 {
		opt.ConfirmTTL = 72 * time.Hour
	}
	opt.Logger = cmp.Or(opt.Logger, slog.New(slog.DiscardHandler))
	opt.BaseURL = strings.TrimRight(opt.BaseURL, "/")
	return &Service{opt: opt, queued: make(chan struct{}, 1)}
}

func badInput(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadInput, fmt.Sprintf(format, args...))
}

// Normalize validates an address; its error wraps ErrBadInput.
func Normalize(email string) (string, error) {
	addr, err := subscriber.NormalizeAddress(email)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	return addr, nil
}

// StatusSuppressed is the filter-only status for addresses on the suppression list.
const StatusSuppressed = "suppressed"

// Filter selects subscribers.
type Filter struct {
	Status string // active, pending, unsubscribed, bounced, suppressed or "" for all
	Search string
	Limit  int
	Offset int
}

// ParseStatus validates a filter status; "" is all.
func ParseStatus(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || s == StatusSuppressed {
		return s, nil
	}
	st, err := newsletter.ParseSubscriberStatus(s)
	if err != nil {
		return "", fmt.Errorf("%w: unknown status %q (want active, pending, unsubscribed, bounced or suppressed)", ErrBadInput, subscriber.Clip(s))
	}
	return string(st), nil
}

func (f Filter) store() (store.SubscriberFilter, error) {
	st, err := ParseStatus(f.Status)
	if err != nil {
		return store.SubscriberFilter{}, err
	}
	if f.Limit < 0 || f.Offset < 0 {
		return store.SubscriberFilter{}, badInput("limit and offset must not be negative")
	}
	if len(f.Search) > 254 {
		return store.SubscriberFilter{}, badInput("search text is longer than 254 bytes")
	}
	sf := store.SubscriberFilter{Search: f.Search, Limit: f.Limit, Offset: f.Offset}
	if st == StatusSuppressed {
		sf.Suppressed = true
	} else {
		sf.Status = newsletter.SubscriberStatus(st)
	}
	return sf, nil
}

// Each calls fn for every subscriber matching f, in id order.
func (s *Service) Each(ctx context.Context, f Filter, fn func(newsletter.Subscriber) error) error {
	sf, err := f.store()
	if err != nil {
		return err
	}
	return s.opt.Store.EachSubscriber(ctx, sf, fn)
}

// List returns one page of the subscribers matching f and how many match in all.
func (s *Service) List(ctx context.Context, f Filter) ([]newsletter.Subscriber, int, error) {
	sf, err := f.store()
	if err != nil {
		return nil, 0, err
	}
	total, err := s.opt.Store.CountMatching(ctx, sf)
	if err != nil {
		return nil, 0, err
	}
	subs, err := s.opt.Store.ListSubscribers(ctx, sf)
	if err != nil {
		return nil, 0, err
	}
	return subs, total, nil
}

// Export writes the subscribers matching f as CSV that Import reads back.
func (s *Service) Export(ctx context.Context, w io.Writer, f Filter) (int, error) {
	cw := subscriber.NewCSVWriter(w)
	n := 0
	err := s.Each(ctx, f, func(sub newsletter.Subscriber) error {
		n++
		return cw.Write(sub)
	})
	if err != nil {
		return n, err
	}
	return n, cw.Flush()
}

// AddRequest is an operator's add.
type AddRequest struct {
	Email  string
	Name   string
	Status string // default active
	Source string // cli, api, admin
	Force  bool   // add even when the address is suppressed (it is taken off the list)
}

// Add adds one address; created is false (and nothing changes) when it is already on
// the list. A suppressed address is refused with ErrSuppressed unless Force.
func (s *Service) Add(ctx context.Context, req AddRequest) (sub newsletter.Subscriber, created bool, err error) {
	addr, existing, found, err := s.lookup(ctx, req.Email)
	if err != nil {
		return sub, false, err
	}
	st := newsletter.StatusActive
	if req.Status != "" {
		if st, err = newsletter.ParseSubscriberStatus(req.Status); err != nil {
			return sub, false, fmt.Errorf("%w: %v", ErrBadInput, err)
		}
	}
	if found {
		return existing, false, nil
	}
	hash := s.opt.Tokens.Digest(addr)
	reason, err := s.opt.Store.Suppression(ctx, hash)
	if err != nil {
		return sub, false, err
	}
	if reason != "" {
		if !req.Force {
			return sub, false, fmt.Errorf("%s: %w (%s)", addr, ErrSuppressed, reason)
		}
		if err := s.opt.Store.RemoveSuppressions(ctx, [][]byte{hash}); err != nil {
			return sub, false, err
		}
	}
	now := s.opt.Now()
	return s.opt.Store.AddSubscriberLogged(ctx, newsletter.Subscriber{
		Email: addr, Name: subscriber.CleanName(req.Name), Status: st, Source: req.Source,
	}, store.ConsentEvent{Event: "joined", Source: req.Source}, now)
}

// lookup validates an address and finds its subscriber; found is false, and err nil, when
// the address is not on the list.
func (s *Service) lookup(ctx context.Context, email string) (addr string, sub newsletter.Subscriber, found bool, err error) {
	if addr, err = Normalize(email); err != nil {
		return "", sub, false, err
	}
	sub, err = s.opt.Store.SubscriberByEmail(ctx, addr)
	if errors.Is(err, newsletter.ErrNotFound) {
		return addr, newsletter.Subscriber{}, false, nil
	}
	return addr, sub, err == nil, err
}

// Remove unsubscribes an address and puts it on the suppression list; changed is
// false when it was already unsubscribed. Not on the list is newsletter.ErrNotFound.
func (s *Service) Remove(ctx context.Context, email, source string) (newsletter.Subscriber, bool, error) {
	addr, sub, found, err := s.lookup(ctx, email)
	if err != nil {
		return sub, false, err
	}
	if !found {
		return sub, false, fmt.Errorf("roster: %s: %w", addr, newsletter.ErrNotFound)
	}
	changed, err := s.opt.Store.ApplyTransition(ctx, store.Transition{
		ID: sub.ID, Status: newsletter.StatusUnsubscribed,
		Event: store.ConsentEvent{Event: "left", Source: source},
		Hash:  s.opt.Tokens.Digest(sub.Email), Suppress: store.SuppressUnsubscribed,
	}, s.opt.Now())
	if err == nil {
		sub.Status = newsletter.StatusUnsubscribed
	}
	return sub, changed, err
}

// CheckSuppressReason says whether reason is one Suppress takes: ErrBadInput if not.
func CheckSuppressReason(reason string) error {
	switch reason {
	case store.SuppressBounced, store.SuppressComplained, store.SuppressManual, store.SuppressUnsubscribed:
		return nil
	}
	return badInput("suppression reason %q (want bounced, complained, manual or unsubscribed)", reason)
}

// Suppress puts an address on the suppression list for a reason (bounced, complained,
// manual): its subscriber, if any, is marked unsubscribed (bounced for a bounce).
func (s *Service) Suppress(ctx context.Context, email, reason, source string) error {
	addr, sub, found, err := s.lookup(ctx, email)
	if err != nil {
		return err
	}
	if err := CheckSuppressReason(reason); err != nil {
		return err
	}
	st := newsletter.StatusUnsubscribed
	if reason == store.SuppressBounced {
		st = newsletter.StatusBounced
	}
	hash := s.opt.Tokens.Digest(addr)
	if !found {
		return s.opt.Store.Suppress(ctx, hash, reason, s.opt.Now())
	}
	_, err = s.opt.Store.ApplyTransition(ctx, store.Transition{
		ID: sub.ID, Status: st, Event: store.ConsentEvent{Event: reason, Source: source},
		Hash: hash, Suppress: reason,
	}, s.opt.Now())
	return err
}

// Erase deletes an address's personal data (the subscriber, its consent log and
// delivery rows) and keeps only its keyed hash on the suppression list. existed is
// false when there was no subscriber (the hash is recorded all the same).
func (s *Service) Erase(ctx context.Context, email string) (existed bool, err error) {
	addr, sub, found, err := s.lookup(ctx, email)
	if err != nil {
		return false, err
	}
	// sub.ID is 0 when there is no subscriber: only the hash is recorded.
	if err := s.opt.Store.EraseSubscriber(ctx, sub.ID, s.opt.Tokens.Digest(addr), s.opt.Now()); err != nil {
		return false, err
	}
	return found, nil
}

// Record is one subscriber with its history.
type Record struct {
	Subscriber newsletter.Subscriber
	Suppressed string // reason, "" when the address may be mailed
	Events     []store.ConsentEvent
}

// Show returns an address's record. An erased address is newsletter.ErrNotFound
// wrapped with ErrSuppressed, so callers can say it was erased.
func (s *Service) Show(ctx context.Context, email string) (Record, error) {
	addr, sub, found, err := s.lookup(ctx, email)
	if err != nil {
		return Record{}, err
	}
	if !found {
		reason, err := s.opt.Store.Suppression(ctx, s.opt.Tokens.Digest(addr))
		if err != nil {
			return Record{}, err
		}
		if reason != "" {
			return Record{Suppressed: reason}, fmt.Errorf("%s: %w (%s): %w", addr, ErrSuppressed, reason, newsletter.ErrNotFound)
		}
		return Record{}, fmt.Errorf("roster: %s: %w", addr, newsletter.ErrNotFound)
	}
	rec := Record{Subscriber: sub}
	if rec.Suppressed, err = s.opt.Store.SubscriberSuppression(ctx, sub.ID); err != nil {
		return Record{}, err
	}
	if rec.Events, err = s.opt.Store.ConsentLog(ctx, sub.ID); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// Stats is the list at a glance.
type Stats struct {
	ByStatus    map[newsletter.SubscriberStatus]int
	Total       int
	Suppressed  int            // subscribers on the suppression list (unsubscribed, bounced, complained)
	Suppression map[string]int // suppression list entries by reason (erased included)
	Weeks       []store.WeekCount
}

// Statuses lists the stored statuses in display order.
var Statuses = []newsletter.SubscriberStatus{newsletter.StatusActive, newsletter.StatusPending, newsletter.StatusUnsubscribed, newsletter.StatusBounced}

// Stats counts subscribers by status and their trend over the last weeks.
func (s *Service) Stats(ctx context.Context, weeks int) (Stats, error) {
	var st Stats
	var err error
	if st.ByStatus, err = s.opt.Store.CountSubscribers(ctx); err != nil {
		return st, err
	}
	for _, n := range st.ByStatus {
		st.Total += n
	}
	if st.Suppressed, err = s.opt.Store.CountMatching(ctx, store.SubscriberFilter{Suppressed: true}); err != nil {
		return st, err
	}
	if st.Suppression, err = s.opt.Store.SuppressionCounts(ctx); err != nil {
		return st, err
	}
	if st.Weeks, err = s.opt.Store.WeeklyTrend(ctx, weeks, s.opt.Now()); err != nil {
		return st, err
	}
	return st, nil
}

// SubscriberByID is for the unsubscribe pages.
func (s *Service) SubscriberByID(ctx context.Context, id int64) (newsletter.Subscriber, error) {
	return s.opt.Store.SubscriberByID(ctx, id)
}

// ChangeStatus is the unsubscribe pages' change: leaving goes onto the suppression list
// and the consent log; coming back (the resubscribe button, a person's own click) takes
// the address off it. sub is the subscriber as the caller looked it up: its address keys
// the suppression list (an address never changes), and its status is read again inside
// the transaction. When it returns nil the change is committed.
func (s *Service) ChangeStatus(ctx context.Context, sub newsletter.Subscriber, st newsletter.SubscriberStatus, now time.Time) (bool, error) {
	t := store.Transition{ID: sub.ID, Status: st, Hash: s.opt.Tokens.Digest(sub.Email)}
	switch st {
	case newsletter.StatusUnsubscribed:
		t.Event = store.ConsentEvent{Event: "left", Source: "web"}
		t.Suppress = store.SuppressUnsubscribed
	case newsletter.StatusActive:
		// Only someone who left by choice comes back this way: not a bounced address, and
		// not one that complained, which only a confirmed sign-up brings back.
		t.Event = store.ConsentEvent{Event: "resubscribed", Source: "web"}
		t.Unsuppress = true
		t.From, t.Unless = newsletter.StatusUnsubscribed, store.SuppressComplained
	}
	return s.opt.Store.ApplyTransition(ctx, t, now)
}
