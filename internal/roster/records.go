package roster

import (
	"context"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/store"
)

// Store is what the Service needs of the database, grouped by job; the row types are the
// store's. The Service is the list's one set of rules, so it needs every job.
type Store interface {
	// Finding subscribers (newsletter.ErrNotFound when there is none), paging through
	// and exporting those matching a filter.
	SubscriberByEmail(ctx context.Context, email string) (newsletter.Subscriber, error)
	SubscriberByID(ctx context.Context, id int64) (newsletter.Subscriber, error)
	ListSubscribers(ctx context.Context, f store.SubscriberFilter) ([]newsletter.Subscriber, error)
	CountMatching(ctx context.Context, f store.SubscriberFilter) (int, error)
	EachSubscriber(ctx context.Context, f store.SubscriberFilter, fn func(newsletter.Subscriber) error) error

	// Changing a subscriber's standing together with its consent log line.
	AddSubscriberLogged(ctx context.Context, s newsletter.Subscriber, ev store.ConsentEvent, now time.Time) (newsletter.Subscriber, bool, error)
	ApplyTransition(ctx context.Context, t store.Transition, now time.Time) (bool, error)
	ConsentLog(ctx context.Context, id int64) ([]store.ConsentEvent, error)

	// The hashes of addresses that must not be mailed again.
	Suppress(ctx context.Context, hash []byte, reason string, now time.Time) error
	Suppression(ctx context.Context, hash []byte) (string, error)
	SubscriberSuppression(ctx context.Context, id int64) (string, error)
	RemoveSuppressions(ctx context.Context, hashes [][]byte) error

	// Writing an imported file's rows, checked against the suppression list.
	ImportSubscribers(ctx context.Context, rows store.SubscriberStream, opt store.ImportOptions, now time.Time) (store.ImportResult, error)
	SuppressionSet(ctx context.Context) (map[string]string, error)

	// Removing every trace of a subscriber but the suppressed hash.
	EraseSubscriber(ctx context.Context, id int64, hash []byte, now time.Time) error

	// The figures of the list's statistics.
	CountSubscribers(ctx context.Context) (map[newsletter.SubscriberStatus]int, error)
	SuppressionCounts(ctx context.Context) (map[string]int, error)
	WeeklyTrend(ctx context.Context, weeks int, now time.Time) ([]store.WeekCount, error)

	// The sign-ups whose confirmation message is still to be sent, claimed by one process
	// at a time.
	QueueConfirmation(ctx context.Context, id int64, now time.Time) error
	DueConfirmations(ctx context.Context, now time.Time, limit int) ([]store.QueuedConfirmation, error)
	ClaimConfirmation(ctx context.Context, id int64, now, until time.Time) (bool, error)
	ConfirmationDone(ctx context.Context, id int64) error
	ConfirmationFailed(ctx context.Context, id int64, attempts int, retryAt time.Time, reason string) error

	// Matching a bounce report to the issue it is about and recording it.
	IssueByID(ctx context.Context, id int64) (newsletter.Issue, error)
	DeliveryStatus(ctx context.Context, issueID, subscriberID int64) (newsletter.DeliveryStatus, error)
	RecordBounce(ctx context.Context, ev store.BounceEvent, hash []byte, rules store.BounceRules, now time.Time) (store.BounceResult, error)
}
