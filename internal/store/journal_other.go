//go:build !unix

package store

import (
	"context"
	"errors"
	"os"
	"time"
)

// Without flock there is no safe owner: no journal, and transitions are written directly.
func lockJournal(context.Context, string, time.Duration) (*os.File, error) {
	return nil, errors.ErrUnsupported
}

func unlockJournal(f *os.File) error { return f.Close() }
