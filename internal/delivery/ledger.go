package delivery

import (
	"context"
	"time"

	"newsletter/internal/newsletter"
)

// Queuer adds an issue's pending ledger rows, one per active subscriber without one.
type Queuer interface {
	// EnqueueDeliveriesAfter adds a pending row for each of the next limit active
	// subscribers (id > after) without one; last is the last id looked at, 0 at the end.
	EnqueueDeliveriesAfter(ctx context.Context, issueID, after int64, limit int, now time.Time) (added int, last int64, err error)
}

// Claims hands out pending rows and stores what became of them.
type Claims interface {
	// ClaimDeliveries moves up to limit pending rows of the issue to sending and returns
	// them, skipping (and marking skipped) subscribers who are no longer active.
	ClaimDeliveries(ctx context.Context, issueID int64, limit int, now time.Time) ([]newsletter.Delivery, error)
	// RecordDeliveries stores the outcome of claimed rows.
	RecordDeliveries(ctx context.Context, outcomes []Outcome, now time.Time) error
	// RecordAndClaim does RecordDeliveries and ClaimDeliveries in one transaction.
	RecordAndClaim(ctx context.Context, issueID int64, outcomes []Outcome, limit int, now time.Time) ([]newsletter.Delivery, error)
}

// InFlight settles the rows a crash left in sending, sent or not, nobody knows.
type InFlight interface {
	// ResetInFlight returns them to pending.
	ResetInFlight(ctx context.Context, issueID int64) (int, error)
	// SkipInFlight marks them skipped.
	SkipInFlight(ctx context.Context, issueID int64, now time.Time) (int, error)
}

// Retries brings deferred rows back when their retry time comes.
type Retries interface {
	// RequeueDue returns deferred rows whose retry time has come to pending.
	RequeueDue(ctx context.Context, issueID int64, now time.Time) (int, error)
	// NextRetry is the earliest retry time of the deferred rows; ok is false when none.
	NextRetry(ctx context.Context, issueID int64) (at time.Time, ok bool, err error)
}

// IssueState moves an issue through its statuses and holds it (a failed canary) until
// someone releases it.
type IssueState interface {
	SetIssueStatus(ctx context.Context, issueID int64, st newsletter.IssueStatus, now time.Time) error
	HoldIssue(ctx context.Context, issueID int64, reason string, now time.Time) error
	// IssueHold returns the reason the issue is held, "" when it is not.
	IssueHold(ctx context.Context, issueID int64) (string, error)
}

// Counts reads how far an issue's delivery has got.
type Counts interface {
	// DeliveryCounts counts the issue's ledger rows by status.
	DeliveryCounts(ctx context.Context, issueID int64) (map[newsletter.DeliveryStatus]int, error)
	// DeliveryBacklog counts the active subscribers the issue is still owed to.
	DeliveryBacklog(ctx context.Context, issueID int64) (int, error)
}

// Ledger is everything a Sender does with the delivery ledger; its parts take only the
// piece they use.
type Ledger interface {
	Queuer
	Claims
	InFlight
	Retries
	IssueState
	Counts
}

// Outcome is what became of one claimed row (newsletter.Outcome, shared with the store).
type Outcome = newsletter.Outcome
