//go:build unix

package store

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// lockJournal opens the journal at path (creating it) and takes its exclusive flock,
// trying for up to wait while another process holds it. A flock goes with the process
// that holds it, so a crashed owner leaves the journal free.
func lockJournal(ctx context.Context, path string, wait time.Duration) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			f.Close()
			return nil, errJournalLocked
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func unlockJournal(f *os.File) error {
	// Closing the file releases the flock.
	return f.Close()
}
