package roster

import (
	"context"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/store"
)

// What the Service needs of the database, grouped by job. The row types are the store's;
// the interfaces are declared here so that a test can stand in for one job at a time.

// SubscriberLookup finds one subscriber; newsletter.ErrNotFound when there is none.
type SubscriberLookup interface {
	SubscriberByEmail(ctx context.Context, email string) (newsletter.Subscriber, error)
	SubscriberByID(ctx context.Context, id int64) (newsletter.Subscriber, error)
}

// SubscriberListing pages through and exports the subscribers matching a filter.
type SubscriberListing interface {
	ListSubscribers(ctx context.Context, f store.SubscriberFilter) ([]newsletter.Subscriber, error)
	CountMatching(ctx context.Context, f store.SubscriberFilter) (int, error)
	EachSubscriber(ctx context.Context, f store.SubscriberFilter, fn func(newsletter.Subscriber) error) error
}

// ConsentRecords changes a subscriber's standing together with its consent log line.
type ConsentRecords interface {
	AddSubscriberLogged(ctx context.Context, s newsletter.Subscriber, ev store.ConsentEvent, now time.Time) (newsletter.Subscriber, bool, error)
	ApplyTransition(ctx context.Context, t store.Transition, now time.Time) (bool, error)
	ConsentLog(ctx context.Context, id int64) ([]store.ConsentEvent, error)
}

// SuppressionList keeps the hashes of addresses that must not be mailed again.
type SuppressionList interface {
	Suppress(ctx context.Context, hash []byte, reason string, now time.Time) error
	Suppression(ctx context.Context, hash []byte) (string, error)
	SubscriberSuppression(ctx context.Context, id int64) (string, error)
	RemoveSuppressions(ctx context.Context, hashes [][]byte) error
}

// SubscriberImport writes an imported file's rows, checked against the suppression list.
type SubscriberImport interface {
	ImportSubscribers(ctx context.Context, rows store.SubscriberStream, opt store.ImportOptions, now time.Time) (store.ImportResult, error)
	SuppressionSet(ctx context.Context) (map[string]string, error)
}

// SubscriberEraser removes every trace of a subscriber but the suppressed hash.
type SubscriberEraser interface {
	EraseSubscriber(ctx context.Context, id int64, hash []byte, now time.Time) error
}

// ListCounts reads the figures of the list's statistics.
type ListCounts interface {
	CountSubscribers(ctx context.Context) (map[newsletter.SubscriberStatus]int, error)
	SuppressionCounts(ctx context.Context) (map[string]int, error)
	WeeklyTrend(ctx context.Context, weeks int, now time.Time) ([]store.WeekCount, error)
}

// ConfirmationQueue holds the sign-ups whose confirmation message is still to be sent.
type ConfirmationQueue interface {
	QueueConfirmation(ctx context.Context, id int64, now time.Time) error
	DueConfirmations(ctx context.Context, now time.Time, limit int) ([]store.QueuedConfirmation, error)
}

// ConfirmationClaims lets one process at a time send a queued confirmation and records how
// it went.
type ConfirmationClaims interface {
	ClaimConfirmation(ctx context.Context, id int64, now, until time.Time) (bool, error)
	ConfirmationDone(ctx context.Context, id int64) error
	ConfirmationFailed(ctx context.Context, id int64, attempts int, retryAt time.Time, reason string) error
}

// BounceRecords matches a bounce report to the issue it is about and records it.
type BounceRecords interface {
	IssueByID(ctx context.Context, id int64) (newsletter.Issue, error)
	DeliveryStatus(ctx context.Context, issueID, subscriberID int64) (newsletter.DeliveryStatus, error)
	RecordBounce(ctx context.Context, ev store.BounceEvent, hash []byte, rules store.BounceRules, now time.Time) (store.BounceResult, error)
}

// Store is every job above: the Service is the list's one set of rules, so it holds them
// all.
type Store interface {
	SubscriberLookup
	SubscriberListing
	ConsentRecords
	SuppressionList
	SubscriberImport
	SubscriberEraser
	ListCounts
	ConfirmationQueue
	ConfirmationClaims
	BounceRecords
}
