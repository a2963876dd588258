//go:build !unix

package store

// writerTurns is a no-op where POSIX record locks are not available: writers only poll.
type writerTurns struct{}

func openWriterTurns(string) *writerTurns { return nil }
func (*writerTurns) wait(bool)            {}
func (*writerTurns) othersWaiting() bool  { return false }
func (*writerTurns) close() error         { return nil }
