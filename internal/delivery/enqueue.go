package delivery

import (
	"context"
	"fmt"
	"time"
)

// enqueueChunk is how many subscribers one ledger transaction of a send queues by default:
// small, so the first message leaves at once and the write lock the one-click unsubscribes
// wait for is held briefly; large, so the workers rarely wait for a chunk.
const enqueueChunk = 1000

// enqueuer adds an issue's ledger rows a chunk at a time, in subscriber order, as the
// workers run out of pending rows. Its calls are serialised by the claimer's lead token (or
// made before any worker starts), so it needs no lock of its own.
type enqueuer struct {
	ledger  Queuer
	issueID int64
	now     func() time.Time
	chunk   int
	after   int64 // the last subscriber looked at
	done    bool  // every active subscriber has been looked at
	added   int
}

// next queues the next chunk; after the last one it sets done.
func (e *enqueuer) next(ctx context.Context) error {
	if e.done {
		return nil
	}
	added, last, err := e.ledger.EnqueueDeliveriesAfter(ctx, e.issueID, e.after, e.chunk, e.now())
	if err != nil {
		return fmt.Errorf("delivery: enqueue: %w", err)
	}
	e.added += added
	if last == 0 {
		e.done = true
		return nil
	}
	e.after = last
	return nil
}

// all queues the rest of the list.
func (e *enqueuer) all(ctx context.Context) error {
	for !e.done {
		if err := e.next(ctx); err != nil {
			return err
		}
	}
	return nil
}
