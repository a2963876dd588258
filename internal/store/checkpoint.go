package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

// checkpointGap is the least time between two checkpoints of the WAL into the database
// file. SQLite's automatic checkpoint came every 1,000 pages (4 MiB) of WAL, a fraction of
// a second of unsubscribes or ledger commits; this keeps about that pace.
const checkpointGap = 200 * time.Millisecond

// writerAutoCheckpoint is the WAL size, in pages (40 MiB), at which the writer checkpoints
// inside its COMMIT, as SQLite does at 1,000 pages by default; the checkpointer normally
// copies the WAL long before.
const writerAutoCheckpoint = 10000

// writerConnector opens the writer's connection with SQLite's automatic checkpoint moved
// from every 1,000 pages of WAL to every writerAutoCheckpoint pages. That checkpoint runs
// inside the COMMIT that crosses the limit and syncs the WAL and the database file to disk,
// which took up to hundreds of milliseconds on a busy disk, all of it while every other
// write of the process waited for the writer. The checkpointer does it beside the writer
// instead (a passive checkpoint takes no lock that a writer needs); the automatic one stays
// as a bound on the WAL should the checkpointer fall behind.
type writerConnector struct {
	drv *sqlite3.SQLiteDriver
	dsn string
}

func newWriterConnector(dsn string) writerConnector {
	return writerConnector{dsn: dsn, drv: &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		// Through the interface, as go-sqlite3's stand-in without cgo has no Exec.
		ex, ok := any(c).(driver.ExecerContext)
		if !ok {
			return errors.New("store: the sqlite3 connection cannot execute statements")
		}
		_, err := ex.ExecContext(context.Background(), fmt.Sprintf(`PRAGMA wal_autocheckpoint = %d`, writerAutoCheckpoint), nil)
		return err
	}}}
}

func (c writerConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c writerConnector) Driver() driver.Driver                        { return c.drv }

// checkpointer copies the WAL back into the database file on a pool connection, at most
// every checkpointGap, after the writer has committed (nudge), then lets finish copy the
// little written meanwhile. It runs from Open to Close.
//
// The second step is what keeps the WAL from growing without end. SQLite starts the WAL
// over only when a write transaction begins on a WAL that is fully copied; a checkpoint
// that runs beside a busy writer never is, since the writer adds frames while it copies.
// With the first step alone a 1,000,000-subscriber send grew its WAL past 13 GB.
type checkpointer struct {
	finish   func()        // completes the checkpoint between two of the writer's transactions
	nudge    chan struct{} // capacity 1: a commit happened since the last checkpoint began
	quit     chan struct{}
	quitOnce sync.Once
	done     chan struct{}
}

func startCheckpointer(pool *sql.DB, finish func()) *checkpointer {
	c := &checkpointer{finish: finish, nudge: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go c.run(pool)
	return c
}

// committed tells the checkpointer that the WAL grew; it never blocks.
func (c *checkpointer) committed() {
	select {
	case c.nudge <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run(pool *sql.DB) {
	defer close(c.done)
	gap := time.NewTimer(0)
	defer gap.Stop()
	for {
		select {
		case <-c.quit:
			return
		case <-c.nudge:
		}
		// PASSIVE copies what no reader still needs and waits for no one; what it cannot
		// copy yet goes in a later round. Its errors (SQLITE_BUSY while another process
		// checkpoints) only mean the same. It is never interrupted: an interrupt left
		// pending on the connection would also stop the checkpoint SQLite runs when the
		// last connection closes, and leave the WAL beside the database file.
		_, _ = pool.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
		c.finish()
		gap.Reset(checkpointGap)
		select {
		case <-c.quit:
			return
		case <-gap.C:
		}
	}
}

// stop ends the checkpointer, after the checkpoint it may be running, and waits for it;
// it may be called again. The last connection to close checkpoints the rest, as SQLite
// always does.
func (c *checkpointer) stop() {
	c.quitOnce.Do(func() { close(c.quit) })
	<-c.done
}
