//go:build unix

package store

import (
	"io"
	"os"
	"syscall"
)

// writerTurns lets the processes writing one database (`newsletter serve` and a
// `newsletter send`) take turns at its write lock. SQLite keeps no queue of writers: a
// process that commits and begins again at once keeps the lock, and another one that
// polls for it can wait through many of its transactions. So a process waiting for the
// lock says so, with a read lock on the first byte of a side file (PATH-writers), and a
// process about to begin again right after its own commit first lets a waiting one in.
// A POSIX lock belongs to the process and goes with it, so a crashed waiter leaves no
// mark behind. Without the side file (it could not be created), writers only poll.
type writerTurns struct {
	f *os.File
}

func openWriterTurns(dbPath string) *writerTurns {
	f, err := os.OpenFile(dbPath+"-writers", os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil
	}
	return &writerTurns{f: f}
}

func (w *writerTurns) lock(cmd int, typ int16) (syscall.Flock_t, error) {
	lk := syscall.Flock_t{Type: typ, Whence: io.SeekStart, Start: 0, Len: 1}
	err := syscall.FcntlFlock(w.f.Fd(), cmd, &lk)
	return lk, err
}

// wait marks this process as waiting for the write lock, or no longer.
func (w *writerTurns) wait(on bool) {
	if w == nil {
		return
	}
	typ := int16(syscall.F_UNLCK)
	if on {
		typ = syscall.F_RDLCK
	}
	_, _ = w.lock(syscall.F_SETLK, typ)
}

// othersWaiting reports whether another process is waiting for the write lock: whether
// its mark is in the way of a write lock on the byte (a process's own marks never are).
func (w *writerTurns) othersWaiting() bool {
	if w == nil {
		return false
	}
	lk, err := w.lock(syscall.F_GETLK, syscall.F_WRLCK)
	return err == nil && lk.Type != syscall.F_UNLCK
}

func (w *writerTurns) close() error {
	if w == nil {
		return nil
	}
	return w.f.Close()
}
