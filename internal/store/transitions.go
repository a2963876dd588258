package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"newsletter/internal/newsletter"
)

// maxTransitionBatch caps how many transitions share one transaction.
const maxTransitionBatch = 256

// transitionQueue group-commits subscriber transitions. A one-click unsubscribe is a few
// small writes, and committing them one transaction each made BEGIN and COMMIT, not the
// writes, most of the work, all of it behind the one write lock. So while one transaction
// runs, the transitions that arrive queue up and go together in the next. A token says
// who runs it: whichever waiting caller takes it (the scheme of the sender's claimer in
// package delivery), so no goroutine outlives the calls.
type transitionQueue struct {
	lead chan struct{} // holds the token while no batch runs
	reqs chan *transitionRequest
}

type transitionRequest struct {
	ctx     context.Context
	t       Transition
	now     time.Time
	done    chan struct{} // closed when changed and err are final
	changed bool
	err     error
}

func newTransitionQueue() transitionQueue {
	q := transitionQueue{lead: make(chan struct{}, 1), reqs: make(chan *transitionRequest, maxTransitionBatch)}
	q.lead <- struct{}{}
	return q
}

// apply queues t and returns once a batch holding it has committed or failed. A caller
// whose context ends before its batch starts gets the context's error and nothing is
// written; once its batch has started it waits for the outcome, so that what it returns
// is what the database holds.
func (q *transitionQueue) apply(ctx context.Context, db *DB, t Transition, now time.Time) (bool, error) {
	r := &transitionRequest{ctx: ctx, t: t, now: now, done: make(chan struct{})}
	select {
	case q.reqs <- r:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	for {
		select {
		case <-r.done:
			return r.changed, r.err
		default:
		}
		select {
		case <-r.done:
			return r.changed, r.err
		case <-q.lead:
			q.runBatch(db)
			q.lead <- struct{}{}
		}
	}
}

// runBatch applies every queued transition (none, when an earlier batch took the
// caller's) in one transaction. A transition whose subscriber is gone writes nothing and
// gets newsletter.ErrNotFound while the others go on. Any other failure rolls the batch
// back, and then each transition runs again alone, so that each caller gets its own
// outcome. (Savepoints around each one would do the same, at two more statements each
// inside the write lock.)
func (q *transitionQueue) runBatch(db *DB) {
	var batch []*transitionRequest
drain:
	for len(batch) < maxTransitionBatch {
		select {
		case r := <-q.reqs:
			if err := r.ctx.Err(); err != nil {
				r.err = err
				close(r.done)
				continue
			}
			batch = append(batch, r)
		default:
			break drain
		}
	}
	if len(batch) == 0 {
		return
	}
	// The transaction is every caller's: one of them going away must not roll it back.
	ctx := context.WithoutCancel(batch[0].ctx)
	failed, err := db.applyTransitions(ctx, batch)
	for _, r := range batch {
		switch {
		case failed != nil && failed != r:
			// Another's failure rolled this one back: again, alone.
			if _, err := db.applyTransitions(ctx, []*transitionRequest{r}); err != nil {
				r.err = err
			}
		case err != nil:
			r.err = err
		}
		if r.err != nil {
			r.changed = false
		}
		close(r.done)
	}
}

// applyTransitions writes the batch in one transaction, setting each request's result.
// Its error is the batch's (beginning, committing, or failed's own) unless nil; failed is
// the request whose failure, other than a subscriber that is gone, rolled the batch back.
func (db *DB) applyTransitions(ctx context.Context, batch []*transitionRequest) (failed *transitionRequest, err error) {
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		for _, r := range batch {
			r.changed, r.err = transitionTx(ctx, tx, r.t, r.now)
			if r.err != nil && !errors.Is(r.err, newsletter.ErrNotFound) {
				failed = r
				return r.err
			}
		}
		return nil
	})
	return failed, err
}
