package mailbox

import (
	"context"
	"time"
)

// Watch polls the mailbox at once and then every every, until ctx is done: serve's loop.
// start gives each pass its Handle (so a pass keeps counts of its own); an error of start
// or of a pass goes to report, and the next pass comes all the same.
func Watch(ctx context.Context, opt Options, every time.Duration, start func() (Handle, error), report func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		handle, err := start()
		if err == nil {
			_, err = Poll(ctx, opt, handle)
		}
		if err != nil && ctx.Err() == nil {
			report(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
