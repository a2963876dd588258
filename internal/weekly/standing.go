package weekly

import (
	"context"
	"errors"
	"time"

	"newsletter/internal/newsletter"
)

// Standing is where an issue stands against its send slot.
type Standing int

const (
	StandingUpcoming Standing = iota // its send slot is ahead
	StandingDue                      // its slot passed within the grace period: the scheduler still sends it
	StandingMissed                   // its slot passed longer ago: the scheduler will not send it
	StandingSending                  // being sent
	StandingSent                     // sent
)

// Outlook is an issue's standing at one moment.
type Outlook struct {
	Standing Standing
	SendAt   time.Time // the issue's send slot (see SendAt)
	SentAt   time.Time // when it went out, for StandingSent
}

// Outlook says where week's issue stands at now: sent, being sent, else how its send slot
// compares with now. An issue not built yet stands as its draft would.
func (b *Builder) Outlook(ctx context.Context, week newsletter.Week, now time.Time) (Outlook, error) {
	o := Outlook{SendAt: b.SendAt(week)}
	is, err := b.store.IssueByWeek(ctx, week)
	switch {
	case err != nil && !errors.Is(err, newsletter.ErrNotFound):
		return o, err
	case err == nil && is.Status == newsletter.IssueSent:
		o.Standing, o.SentAt = StandingSent, is.SentAt
	case err == nil && is.Status == newsletter.IssueSending:
		o.Standing = StandingSending
	case b.Missed(week, now):
		o.Standing = StandingMissed
	case o.SendAt.After(now):
		o.Standing = StandingUpcoming
	default:
		o.Standing = StandingDue
	}
	return o, nil
}
