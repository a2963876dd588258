package mailbox

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

// TestWatchKeepsPollingAfterAFailedPass: the first pass cannot start, the second hands
// both messages over, and Watch returns once its context is done.
func TestWatchKeepsPollingAfterAFailedPass(t *testing.T) {
	url := startServer(t, message("first"), message("second"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen := make(chan string, 2)
	var reported []error
	passes := 0
	start := func() (Handle, error) {
		passes++
		if passes == 1 {
			return nil, errors.New("database is busy")
		}
		return func(_ context.Context, name string, r io.Reader) error {
			_, err := io.Copy(io.Discard, r)
			seen <- name
			return err
		}, nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Watch(ctx, Options{URL: url}, time.Millisecond, start, func(err error) { reported = append(reported, err) })
	}()
	for range 2 {
		select {
		case <-seen:
		case <-time.After(30 * time.Second):
			t.Fatal("Watch did not hand the messages over")
		}
	}
	cancel()
	<-done
	if len(reported) != 1 || reported[0].Error() != "database is busy" {
		t.Fatalf("reported %v, want the failed start only", reported)
	}
}
