package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"newsletter/internal/newsletter"
)

// Kinds of bounce event.
const (
	BounceHard      = "hard"
	BounceSoft      = "soft"
	BounceComplaint = "complaint"
)

// BounceEvent is one bounce or complaint report matched to a subscriber.
type BounceEvent struct {
	SubscriberID int64
	IssueID      int64  // 0 when the report does not say which issue
	Kind         string // BounceHard, BounceSoft or BounceComplaint
	Status       string // enhanced status code, 5.1.1
	Reason       string // one line
	Source       string // dsn or arf: the consent log's source
	ReportedAt   time.Time
	ReportID     string // the report's own Message-ID; empty when it has none
}

// BounceRules say when reports suppress a subscriber.
type BounceRules struct {
	HardLimit  int           // hard bounces over all issues (delivery.bounce_limit)
	SoftLimit  int           // soft bounces within SoftWindow
	SoftWindow time.Duration // counted back from now
}

// BounceResult is what RecordBounce did.
type BounceResult struct {
	// Duplicate is true when this message's report of this kind was already recorded:
	// nothing was written.
	Duplicate  bool
	Hard       int                         // the subscriber's hard bounces, this one included
	Soft       int                         // soft bounces within the window, this one included
	Limit      int                         // the limit the count is held against (hard or soft); 0 for a complaint
	Suppressed string                      // the reason this report put the address on the suppression list; "" when it did not
	Status     newsletter.SubscriberStatus // the subscriber's status afterwards
}

// RecordBounce records a report about a subscriber (hash: the address's suppression hash)
// in its consent log and applies it, in one transaction: a hard bounce turns the issue's
// sent row to bounced and, at rules.HardLimit, marks the subscriber bounced and suppressed;
// soft bounces do the same at rules.SoftLimit within rules.SoftWindow; a complaint
// suppresses at once (reason complained, status unsubscribed).
func (db *DB) RecordBounce(ctx context.Context, ev BounceEvent, hash []byte, rules BounceRules, now time.Time) (BounceResult, error) {
	switch ev.Kind {
	case BounceHard, BounceSoft, BounceComplaint:
	default:
		return BounceResult{}, fmt.Errorf("store: bounce kind %q is not valid", ev.Kind)
	}
	if len(hash) == 0 {
		return BounceResult{}, fmt.Errorf("store: subscriber %d: bounce without a suppression hash", ev.SubscriberID)
	}
	if ev.ReportedAt.IsZero() {
		ev.ReportedAt = now
	}
	rules.HardLimit, rules.SoftLimit = max(rules.HardLimit, 1), max(rules.SoftLimit, 1)
	var res BounceResult
	err := db.inTx(ctx, func(tx *sql.Tx) (err error) {
		res, err = recordBounceTx(ctx, tx, ev, hash, rules, now)
		return err
	})
	if err != nil {
		return BounceResult{}, fmt.Errorf("store: subscriber %d: record %s bounce: %w", ev.SubscriberID, ev.Kind, err)
	}
	return res, nil
}

func recordBounceTx(ctx context.Context, tx *sql.Tx, ev BounceEvent, hash []byte, rules BounceRules, now time.Time) (BounceResult, error) {
	var res BounceResult
	var suppressed string
	err := tx.QueryRowContext(ctx, `SELECT status, suppressed FROM subscribers WHERE id = ?`, ev.SubscriberID).Scan(&res.Status, &suppressed)
	if err != nil {
		return res, notFound(err)
	}
	issue := sql.NullInt64{Int64: ev.IssueID, Valid: ev.IssueID > 0}
	// One count per message and kind: a relay may send several delay warnings, and an
	// operator may feed the same mailbox twice (the same report by its own Message-ID).
	var dup int
	err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM bounce_events
		WHERE subscriber_id = ?1 AND kind = ?2 AND (issue_id = ?3
			OR (?3 IS NULL AND issue_id IS NULL AND reported_at = ?4)
			OR (?5 <> '' AND report_id = ?5))`,
		ev.SubscriberID, ev.Kind, issue, unix(ev.ReportedAt), ev.ReportID).Scan(&dup)
	if err != nil {
		return res, err
	}
	if dup > 0 {
		res.Duplicate = true
		return res, nil
	}
	ledger := 0
	if ev.Kind == BounceHard && issue.Valid {
		ledger, err = affected(tx.ExecContext(ctx, `UPDATE deliveries SET status = 'bounced', reply = ?, updated_at = ?
			WHERE issue_id = ? AND subscriber_id = ? AND status = 'sent'`,
			"after the send: "+ev.Status+" "+ev.Reason, unix(now), ev.IssueID, ev.SubscriberID))
		if err != nil {
			return res, err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO bounce_events
		(subscriber_id, issue_id, kind, status, reason, source, ledger, reported_at, received_at, report_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.SubscriberID, issue, ev.Kind, ev.Status, ev.Reason, ev.Source, ledger, unix(ev.ReportedAt), unix(now), ev.ReportID); err != nil {
		return res, err
	}
	err = tx.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM deliveries WHERE subscriber_id = ?1 AND status = 'bounced') +
		(SELECT COUNT(*) FROM bounce_events WHERE subscriber_id = ?1 AND kind = 'hard' AND ledger = 0),
		(SELECT COUNT(*) FROM bounce_events WHERE subscriber_id = ?1 AND kind = 'soft' AND reported_at >= ?2)`,
		ev.SubscriberID, unix(now.Add(-rules.SoftWindow))).Scan(&res.Hard, &res.Soft)
	if err != nil {
		return res, err
	}

	detail := ev.Reason
	if ev.Status != "" {
		detail = ev.Status + " " + detail
	}
	t := Transition{ID: ev.SubscriberID, Hash: hash,
		Event: ConsentEvent{Source: ev.Source, At: ev.ReportedAt, Detail: detail}}
	active := res.Status == newsletter.StatusActive || res.Status == newsletter.StatusPending
	switch ev.Kind {
	case BounceComplaint:
		t.Event.Event = "complained"
		t.Suppress = SuppressComplained
		if active {
			t.Status = newsletter.StatusUnsubscribed
		}
	case BounceHard, BounceSoft:
		count, limit := res.Hard, rules.HardLimit
		if ev.Kind == BounceSoft {
			count, limit = res.Soft, rules.SoftLimit
		}
		res.Limit = limit
		t.Event.Event = ev.Kind + "-bounce"
		t.Event.Detail = fmt.Sprintf("%s (%d of %d)", detail, count, limit)
		// An address already suppressed for another reason (unsubscribed, complained) keeps it.
		if count >= limit && (suppressed == "" || suppressed == SuppressBounced) {
			t.Event.Event = "bounced"
			t.Suppress = SuppressBounced
			if active {
				t.Status = newsletter.StatusBounced
			}
		}
	}
	if _, err := transitionTx(ctx, tx, t, now); err != nil {
		return res, err
	}
	res.Suppressed = t.Suppress
	if t.Status != "" {
		res.Status = t.Status
	}
	return res, nil
}

// IssueBounces counts an issue's bounce and complaint reports; hard bounces at SMTP time
// are in the delivery ledger, not here.
func (db *DB) IssueBounces(ctx context.Context, issueID int64) (newsletter.IssueReports, error) {
	var r newsletter.IssueReports
	dest := []any{&r.Hard, &r.Soft, &r.Complaints, &r.HardInLedger}
	err := db.scanRow(ctx, fmt.Sprintf("issue %d: bounce counts", issueID), dest, `SELECT
		COALESCE(SUM(kind = 'hard'), 0), COALESCE(SUM(kind = 'soft'), 0),
		COALESCE(SUM(kind = 'complaint'), 0), COALESCE(SUM(kind = 'hard' AND ledger = 1), 0)
		FROM bounce_events WHERE issue_id = ?`, issueID)
	return r, err
}

// BounceCounts counts every recorded bounce and complaint report by kind.
func (db *DB) BounceCounts(ctx context.Context) (map[string]int, error) {
	return queryMap(ctx, db.db, "bounce counts", map[string]int{}, `SELECT kind, COUNT(*) FROM bounce_events GROUP BY kind`)
}
