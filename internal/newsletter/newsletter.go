// Package newsletter holds the shared vocabulary of the product: stories, issues,
// subscribers, deliveries and ISO weeks. It does no I/O.
package newsletter

import (
	"errors"
	"strings"
	"time"
)

// ErrNotFound is returned (wrapped) when a looked-up record does not exist.
var ErrNotFound = errors.New("not found")

// ErrRefused is returned (wrapped) when a change's condition does not hold: nothing was
// written.
var ErrRefused = errors.New("refused")

// ErrBusy is returned (wrapped) when a write could not get the database's write lock in
// time: nothing was written, and the same request may succeed a moment later.
var ErrBusy = errors.New("database busy")

// Story is one article gathered from a feed or added by an editor.
type Story struct {
	ID          int64
	GUID        string    // feed-provided identifier; falls back to URL
	URL         string    // canonical absolute http(s) URL
	Title       string    // plain text, no CR/LF
	Summary     string    // plain-text dek, trimmed to a few sentences
	ContentHTML string    // sanitised HTML body (may be empty)
	Author      string    // plain text
	Section     string    // first category, plain text
	Categories  []string  // all categories
	ImageURL    string    // absolute http(s) URL or empty
	ImageAlt    string    // alt text for ImageURL
	ReadMinutes int       // estimated reading time, 0 when unknown
	Published   time.Time // UTC; an undated or future-dated item is dated when first seen
	FirstSeen   time.Time // when a feed first offered it (set by the store)
	FeedURL     string    // the source it came from
	Pinned      bool      // editor pick: sorts first
}

// IssueStatus is where an issue is in its life.
type IssueStatus string

// Issue states.
const (
	IssueDraft    IssueStatus = "draft"    // built, not frozen
	IssueApproved IssueStatus = "approved" // frozen by an editor, waiting for its send time
	IssueSending  IssueStatus = "sending"  // frozen, deliveries being made
	IssueSent     IssueStatus = "sent"     // every delivery reached a final state
)

// Issue is one weekly email: its stories and, once built, its rendered content.
type Issue struct {
	ID          int64
	Week        Week
	Subject     string
	Preheader   string
	WindowStart time.Time // stories published after this instant (exclusive)...
	Cutoff      time.Time // ...and up to this instant (inclusive)
	Stories     []Story
	Status      IssueStatus
	CreatedAt   time.Time // its last build: what the feeds had offered by then was considered
	SentAt      time.Time // zero until the issue is sent

	// Editorial additions, applied at build time and frozen into HTML and Text.
	Intro          string // the editor's note, Markdown
	GroupBySection bool   // "More this week" grouped under section headings
	ApprovedBy     string // who approved the issue; empty while it is a draft

	// Report says, for every story the issue considered, whether it is in and why not;
	// saved with the issue and replaced on each rebuild.
	Report []Verdict

	// Rendered content, frozen when the issue is saved so that resends are byte-identical.
	// HTML and Text carry per-recipient placeholders (see package render).
	HTML string
	Text string
}

// Verdict is one line of an issue's inclusion report.
type Verdict struct {
	StoryID  int64
	Included bool
	Reason   string // why it is out; empty when included
}

// Edit is one editor action on a week's draft (see package editorial for the actions).
type Edit struct {
	ID      int64
	Week    Week
	Editor  string // who: an editor account, "admin" for the bearer token, or the CLI user
	Action  string // what: set-subject, pin, exclude, move, add, approve, ...
	StoryID int64  // the story acted on, 0 when none
	Value   string // the new text, position or flag
	At      time.Time
}

// Offer is a story the feeds offered, with the week of the issue that already carries it
// (zero when none): the raw material of an issue's inclusion report.
type Offer struct {
	Story     Story
	IssueWeek Week
}

// SubscriberStatus is a subscriber's standing on the list.
type SubscriberStatus string

// Subscriber states.
const (
	StatusActive       SubscriberStatus = "active"
	StatusPending      SubscriberStatus = "pending"
	StatusUnsubscribed SubscriberStatus = "unsubscribed"
	StatusBounced      SubscriberStatus = "bounced"
)

// ParseSubscriberStatus validates a status name.
func ParseSubscriberStatus(s string) (SubscriberStatus, error) {
	switch st := SubscriberStatus(strings.ToLower(strings.TrimSpace(s))); st {
	case StatusActive, StatusPending, StatusUnsubscribed, StatusBounced:
		return st, nil
	}
	return "", errors.New("unknown status " + `"` + s + `"` + " (want active, pending, unsubscribed or bounced)")
}

// Subscriber is one address on the list.
type Subscriber struct {
	ID        int64
	Email     string // normalised: trimmed, domain lower-cased
	Name      string // plain text, no CR/LF
	Status    SubscriberStatus
	Source    string // how they joined: import, cli, web
	CreatedAt time.Time
	UpdatedAt time.Time
}

// DeliveryStatus is the state of one (issue, subscriber) row in the delivery ledger.
type DeliveryStatus string

// Delivery states.
const (
	DeliveryPending  DeliveryStatus = "pending"  // not yet attempted
	DeliverySending  DeliveryStatus = "sending"  // claimed by a worker, outcome unknown
	DeliverySent     DeliveryStatus = "sent"     // accepted by the server (or written to the outbox)
	DeliveryDeferred DeliveryStatus = "deferred" // temporary failure (4xx, dropped connection); retried later
	DeliveryFailed   DeliveryStatus = "failed"   // retries given up (max attempts or horizon); final
	DeliveryBounced  DeliveryStatus = "bounced"  // permanent refusal (5xx)
	DeliverySkipped  DeliveryStatus = "skipped"  // subscriber left before their turn, or in doubt and not resent
)

// Delivery is one row of the ledger.
type Delivery struct {
	ID         int64
	IssueID    int64
	Subscriber Subscriber
	Status     DeliveryStatus
	Attempts   int
	UpdatedAt  time.Time
	// FirstAttemptAt is when the row was first claimed; the retry horizon counts from it.
	FirstAttemptAt time.Time
}

// Outcome is what became of one claimed delivery row: what a send records in the ledger.
type Outcome struct {
	DeliveryID int64
	Status     DeliveryStatus
	Reply      string    // the server's answer or the error, for the record
	RetryAt    time.Time // DeliveryDeferred only: not before this time
	// BounceLimit suppresses the subscriber (status bounced) once this bounce makes their
	// hard bounces, over all issues, reach it; values below 1 mean 1.
	BounceLimit int
}
