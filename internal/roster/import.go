package roster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"newsletter/internal/newsletter"
	"newsletter/internal/store"
	"newsletter/internal/subscriber"
	"newsletter/internal/token"
)

// ImportOptions control Import.
type ImportOptions struct {
	DryRun      bool   // report, write nothing
	Strict      bool   // write nothing when any row is bad
	Resubscribe bool   // let rows bring back unsubscribed, bounced and suppressed addresses
	Source      string // recorded on new subscribers; the store's default is import
}

// MaxReportedErrors is how many bad rows an ImportReport lists; BadRows counts
// them all. A hostile file of a million bad rows must not become a million
// errors in memory and in the answer.
const MaxReportedErrors = 1000

// ImportReport is what an import did (or would do).
type ImportReport struct {
	store.ImportResult
	Suppressed int                   // rows skipped because the address is on the suppression list
	BadRows    int                   // rows that did not parse, all of them
	Errors     []subscriber.RowError // the first MaxReportedErrors bad rows, with line numbers
	Written    bool                  // false for a dry run or a strict import with bad rows
}

// ErrorsCut reports whether there were more bad rows than Errors lists.
func (r ImportReport) ErrorsCut() bool { return r.BadRows > len(r.Errors) }

// addBad counts a bad row, and lists it while there is room.
func (r *ImportReport) addBad(re subscriber.RowError) {
	r.BadRows++
	if len(r.Errors) < MaxReportedErrors {
		r.Errors = append(r.Errors, re)
	}
}

// importBatch is how many rows the reading goroutine hands the writing one at a
// time: the store's chunk size, so a batch is one lookup query.
const importBatch = store.ImportChunk

// importQueue is how many batches may wait between reading and writing: enough
// to ride out the uneven cost of chunks, small enough that memory stays flat.
const importQueue = 4

// Import reads a CSV (header row; email, name, status, subscribed_at) and adds or
// updates the good rows by store.ImportSubscribers' rules, a chunk to a transaction,
// in memory that does not grow with the file. Bad rows are reported and skipped; with
// Strict the whole file is checked first, and a file with any bad row writes nothing.
// A row for a suppressed address is skipped unless Resubscribe, which also takes it off
// the suppression list (not a complaint's). A malformed file (no header, no email
// column) is ErrBadInput and writes nothing. An import that stops part way (a read
// failure, a cancelled ctx, the database) keeps the chunks it wrote, says how many rows
// that was, and can be run again: what it wrote then changes nothing more.
func (s *Service) Import(ctx context.Context, r io.Reader, opt ImportOptions) (ImportReport, error) {
	if opt.Strict {
		rewound, bad, done, err := checkWholeFile(r)
		if err != nil {
			return ImportReport{}, err
		}
		defer done()
		if bad.BadRows > 0 {
			return bad, nil
		}
		r = rewound
	}
	cr, err := subscriber.NewCSVReader(r)
	if err != nil {
		return ImportReport{}, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	suppressed, err := s.opt.Store.SuppressionSet(ctx)
	if err != nil {
		return ImportReport{}, err
	}
	rd := &importReader{
		cr: cr, opt: opt, tokens: s.opt.Tokens, suppressed: suppressed,
		batches: make(chan []newsletter.Subscriber, importQueue),
	}
	res, err := s.opt.Store.ImportSubscribers(ctx, rd.stream(ctx),
		store.ImportOptions{DryRun: opt.DryRun, Resubscribe: opt.Resubscribe}, s.opt.Now())
	// The stream, if the store got as far as running it, has waited for the reading
	// goroutine: rd's fields are settled.
	rep := rd.rep
	rep.ImportResult = res
	if err != nil {
		if rd.readErr != nil && errors.Is(err, rd.readErr) {
			err = fmt.Errorf("%w: %v", ErrBadInput, rd.readErr)
		}
		what := "import stopped"
		if ctx.Err() != nil {
			what = "import interrupted"
		}
		if opt.DryRun || res.Rows() == 0 {
			return rep, fmt.Errorf("%s, nothing written: %w", what, err)
		}
		return rep, fmt.Errorf("%s after writing %d rows (the first ones of the file, in whole chunks; running it again is harmless): %w", what, res.Rows(), err)
	}
	if !opt.DryRun {
		// After the rows: a failure here leaves addresses both imported and suppressed,
		// the safe side (they are not mailed) and fixed by running the import again.
		if err := s.opt.Store.RemoveSuppressions(ctx, rd.lift); err != nil {
			return rep, err
		}
		rep.Written = true
	}
	return rep, nil
}

// checkWholeFile reads all of r and reports its bad rows; a file that cannot be read
// (no header, a read failure) is ErrBadInput. It returns a reader of the same bytes from
// the start: r itself, rewound, when it can seek, or else a temporary copy made while
// reading, which done removes.
func checkWholeFile(r io.Reader) (again io.Reader, bad ImportReport, done func(), err error) {
	done = func() {}
	var rewind func() (io.Reader, error)
	if sk, ok := r.(io.Seeker); ok {
		if start, err := sk.Seek(0, io.SeekCurrent); err == nil {
			rewind = func() (io.Reader, error) {
				_, err := sk.Seek(start, io.SeekStart)
				return r, err
			}
		}
	}
	if rewind == nil {
		spool, err := os.CreateTemp("", "newsletter-import-*.csv")
		if err != nil {
			return nil, bad, done, err
		}
		done = func() {
			spool.Close()
			os.Remove(spool.Name())
		}
		r = io.TeeReader(r, spool)
		rewind = func() (io.Reader, error) {
			_, err := spool.Seek(0, io.SeekStart)
			return spool, err
		}
	}
	cr, err := subscriber.NewCSVReader(r)
	for err == nil {
		var re subscriber.RowError
		if _, err = cr.Next(); errors.As(err, &re) {
			bad.addBad(re)
			err = nil
		}
	}
	if errors.Is(err, io.EOF) {
		again, err = rewind()
	}
	if err != nil {
		done()
		return nil, ImportReport{}, func() {}, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	return again, bad, done, nil
}

// importReader reads and checks the CSV in its own goroutine and hands the good
// rows over in batches. Its fields other than batches belong to that
// goroutine until stream returns.
type importReader struct {
	cr         *subscriber.CSVReader
	opt        ImportOptions
	tokens     *token.Signer
	suppressed map[string]string // suppression hashes; an entry is deleted once lifted

	batches chan []newsletter.Subscriber // closed by the reading goroutine when it ends

	rep     ImportReport // Suppressed, BadRows, Errors
	lift    [][]byte     // suppression hashes to lift after the import (Resubscribe)
	readErr error        // a read failure; the import stops
}

// stream is the store's row source. It runs in the store's transaction: it starts
// the reading goroutine, yields the rows it sends, and does not return before that
// goroutine has ended, whatever happens, so none outlives the import.
func (rd *importReader) stream(ctx context.Context) store.SubscriberStream {
	return func(yield func(newsletter.Subscriber) error) error {
		readCtx, stop := context.WithCancel(ctx)
		go rd.read(readCtx)
		err := rd.write(ctx, yield)
		stop()
		for range rd.batches { // until the reader sees stop and closes
		}
		if err != nil {
			return err
		}
		return rd.readErr
	}
}

// write yields the rows of each batch until the reader has ended or yield fails. It
// waits for no more than the reader does: the reader, too, stops when ctx ends.
func (rd *importReader) write(ctx context.Context, yield func(newsletter.Subscriber) error) error {
	for batch := range rd.batches {
		for _, s := range batch {
			if err := yield(s); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// read runs in its own goroutine: CSV parsing, address checks and suppression
// hashes take about a third of an import's CPU, and this way they take it on
// another core than SQLite's.
func (rd *importReader) read(ctx context.Context) {
	defer close(rd.batches)
	batch := make([]newsletter.Subscriber, 0, importBatch)
	send := func() bool {
		select {
		case rd.batches <- batch:
			batch = make([]newsletter.Subscriber, 0, importBatch)
			return true
		case <-ctx.Done():
			return false
		}
	}
	for n := 1; ; n++ {
		// A file of bad rows sends nothing, so look for a stop now and then.
		if n%importBatch == 0 && ctx.Err() != nil {
			return
		}
		row, err := rd.cr.Next()
		var re subscriber.RowError
		switch {
		case errors.Is(err, io.EOF):
			if len(batch) > 0 {
				send()
			}
			return
		case errors.As(err, &re):
			rd.rep.addBad(re)
			continue
		case err != nil:
			rd.readErr = err
			return
		}
		if rd.skipSuppressed(row.Email) {
			continue
		}
		batch = append(batch, newsletter.Subscriber{Email: row.Email, Name: row.Name, Status: row.Status, Source: rd.opt.Source, CreatedAt: row.SubscribedAt})
		if len(batch) == importBatch && !send() {
			return
		}
	}
}

// skipSuppressed reports whether a row for addr is skipped because the address is
// on the suppression list; with Resubscribe it is not (a complaint excepted), and the address is noted to
// be taken off the list.
func (rd *importReader) skipSuppressed(addr string) bool {
	if len(rd.suppressed) == 0 {
		return false
	}
	h := rd.tokens.Digest(addr)
	reason, ok := rd.suppressed[string(h)]
	if !ok {
		return false
	}
	// A spam complaint is never undone by an import: only the person's own confirmed
	// sign-up brings the address back.
	if !rd.opt.Resubscribe || reason == store.SuppressComplained {
		rd.rep.Suppressed++
		return true
	}
	// Lifted once however many rows name the address.
	delete(rd.suppressed, string(h))
	rd.lift = append(rd.lift, h)
	return false
}
