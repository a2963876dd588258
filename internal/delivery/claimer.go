package delivery

import (
	"context"
	"time"

	"newsletter/internal/newsletter"
)

// claimer batches the workers' "record my last outcome, give me the next row" into one
// ledger transaction (group commit): while one transaction runs, the requests that arrive
// queue up and go together in the next. Each worker still asks for one row and holds at
// most one, so a crash leaves at most one row per connection in doubt, as without batching;
// an outcome is recorded before its worker takes another row.
type claimer struct {
	ledger  Claims
	issueID int64
	now     func() time.Time
	enq     *enqueuer // queues the next chunk when the pending rows run out; nil: none to queue

	want int           // requests a transaction waits for, up to gatherWait: half the workers
	lead chan struct{} // a token: whoever holds it runs the next transaction
	reqs chan *claimRequest
}

type claimRequest struct {
	ctx      context.Context
	outcomes []Outcome
	done     chan struct{}
	row      []newsletter.Delivery
	err      error
}

func newClaimer(l Claims, issueID int64, now func() time.Time, enq *enqueuer, workers int) *claimer {
	c := &claimer{want: max(1, workers/2), ledger: l, issueID: issueID, now: now, enq: enq, lead: make(chan struct{}, 1), reqs: make(chan *claimRequest, 1024)}
	c.lead <- struct{}{}
	return c
}

// recordAndClaim records outcomes and claims up to one row, in a transaction shared with
// the other workers' requests queued meanwhile.
func (c *claimer) recordAndClaim(ctx context.Context, outcomes []Outcome) ([]newsletter.Delivery, error) {
	r := &claimRequest{ctx: ctx, outcomes: outcomes, done: make(chan struct{})}
	c.reqs <- r
	for {
		select {
		case <-r.done:
			return r.row, r.err
		case <-c.lead:
			c.runBatch()
			c.lead <- struct{}{}
		}
	}
}

// gatherWait bounds how long a transaction's leader waits for more requests while fewer
// than half of the workers have asked, so that a commit is shared by several messages
// rather than paid by each.
const gatherWait = 2 * time.Millisecond

// runBatch takes the queued requests (at least one is queued: the caller's, unless another
// leader took it, in which case the batch may be empty) and serves them in one transaction.
func (c *claimer) runBatch() {
	batch := c.gather()
	if len(batch) == 0 {
		return
	}
	var outcomes []Outcome
	for _, r := range batch {
		outcomes = append(outcomes, r.outcomes...)
	}
	// The workers share one round context, so the first request's is theirs.
	ctx := batch[0].ctx
	rows, err := c.ledger.RecordAndClaim(ctx, c.issueID, outcomes, len(batch), c.now())
	// Short of rows: queue the next chunk of the list and claim from it. The outcomes are
	// recorded already; only claims are left to make.
	for err == nil && len(rows) < len(batch) && c.enq != nil && !c.enq.done {
		if err = c.enq.next(ctx); err != nil {
			break
		}
		var more []newsletter.Delivery
		more, err = c.ledger.ClaimDeliveries(ctx, c.issueID, len(batch)-len(rows), c.now())
		rows = append(rows, more...)
	}
	for i, r := range batch {
		switch {
		case err != nil:
			r.err = err
		case i < len(rows):
			r.row = rows[i : i+1]
		}
		close(r.done)
	}
}

// gather takes the queued requests; while fewer than c.want have come, it waits up to
// gatherWait for more. Requests of a cancelled round are answered at once and left out.
func (c *claimer) gather() []*claimRequest {
	var batch []*claimRequest
	var timeout <-chan time.Time
	for len(batch) < cap(c.reqs) {
		var r *claimRequest
		select {
		case r = <-c.reqs:
		default:
			if len(batch) == 0 || len(batch) >= c.want {
				return batch
			}
			if timeout == nil {
				timeout = time.After(gatherWait) // collected unfired since Go 1.23: no Stop needed
			}
			select {
			case r = <-c.reqs:
			case <-timeout:
				return batch
			}
		}
		if r.ctx.Err() != nil {
			// Cancelled before its turn: nothing recorded, nothing claimed; the worker
			// records its outcome on its own way out.
			r.err = r.ctx.Err()
			close(r.done)
			continue
		}
		batch = append(batch, r)
	}
	return batch
}
