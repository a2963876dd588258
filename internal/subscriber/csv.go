package subscriber

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"newsletter/internal/newsletter"
)

// Row is one CSV line that parsed.
type Row struct {
	Line         int // line of the file the record starts on; the header is line 1
	Email        string
	Name         string
	Status       newsletter.SubscriberStatus
	SubscribedAt time.Time // UTC; zero when the column is absent or empty
}

// RowError is one CSV line that did not parse.
type RowError struct {
	Line int
	Err  error
}

// Error implements error as "line N: reason".
func (e RowError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap returns the reason.
func (e RowError) Unwrap() error { return e.Err }

// The columns CSVReader understands and CSVWriter writes, in CSVWriter's order.
const (
	colEmail        = "email"
	colName         = "name"
	colStatus       = "status"
	colSubscribedAt = "subscribed_at"
)

// CSVReader reads subscribers from a CSV file whose first record is a header,
// one row at a time, so that a file of millions of rows is never held in
// memory. Columns are matched by name, in any order and any case: email
// (required), name, status (default active) and subscribed_at (RFC 3339 or
// 2006-01-02); others are ignored. Rows come out in file order, duplicates
// included: what a second row for an address means is the importer's call.
type CSVReader struct {
	cr   *csv.Reader
	cap  *recordCap
	cols columns
}

// NewCSVReader reads and checks the header. A missing email column, a
// malformed header or a read failure is returned as the error. A record longer
// than MaxRecord is a bad row, read past without being held in memory.
func NewCSVReader(r io.Reader) (*CSVReader, error) {
	return newCSVReader(r, MaxRecord)
}

func newCSVReader(r io.Reader, maxRecord int) (*CSVReader, error) {
	rc := newRecordCap(skipBOM(r), maxRecord)
	cr := csv.NewReader(rc)
	cr.FieldsPerRecord = -1 // checked here, to say which line and how
	cr.ReuseRecord = true

	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("csv: empty file, want a header row with an email column")
	}
	// Empty lines before the header are skipped: it starts where csv says.
	start := 1
	if pe := (*csv.ParseError)(nil); errors.As(err, &pe) {
		start = pe.StartLine
	} else if err == nil {
		start, _ = cr.FieldPos(0)
	}
	if rc.wasCut(start) {
		return nil, fmt.Errorf("csv: header: %w", errLong(maxRecord))
	}
	if err != nil {
		return nil, fmt.Errorf("csv: header: %w", err)
	}
	cols, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	return &CSVReader{cr: cr, cap: rc, cols: cols}, nil
}

// errLong is the error of a record over MaxRecord.
type errLong int

func (e errLong) Error() string { return fmt.Sprintf("longer than %d bytes", int(e)) }

// Next returns the next row. A line that does not parse is returned as a
// RowError, after which Next carries on with the following line; io.EOF ends
// the file; any other error is a read failure, after which the reader is done.
func (r *CSVReader) Next() (Row, error) {
	rec, err := r.cr.Read()
	if errors.Is(err, io.EOF) {
		return Row{}, io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return Row{}, fmt.Errorf("csv: %w", err)
		}
		if r.cap.wasCut(pe.StartLine) {
			return Row{}, RowError{Line: pe.StartLine, Err: errLong(r.cap.max)}
		}
		// A quoting mistake spoils one record, not the file; the reader
		// carries on from the next line.
		return Row{}, RowError{Line: pe.StartLine, Err: pe.Err}
	}
	line, _ := r.cr.FieldPos(0)
	if r.cap.wasCut(line) {
		return Row{}, RowError{Line: line, Err: errLong(r.cap.max)}
	}
	row, err := r.cols.row(rec)
	if err != nil {
		return Row{}, RowError{Line: line, Err: err}
	}
	row.Line = line
	return row, nil
}

// columns holds the index of each known column, -1 when absent.
type columns struct {
	n                                 int
	email, name, status, subscribedAt int
}

func parseHeader(header []string) (columns, error) {
	c := columns{n: len(header), email: -1, name: -1, status: -1, subscribedAt: -1}
	known := map[string]*int{colEmail: &c.email, colName: &c.name, colStatus: &c.status, colSubscribedAt: &c.subscribedAt}
	for i, h := range header {
		dst, ok := known[strings.ToLower(strings.TrimSpace(h))]
		if !ok {
			continue
		}
		if *dst >= 0 {
			return columns{}, fmt.Errorf("csv: header: column %q appears twice", Clip(strings.TrimSpace(h)))
		}
		*dst = i
	}
	if c.email < 0 {
		return columns{}, fmt.Errorf("csv: header: missing %q column (found %s)", colEmail, Clip(strings.Join(header, ", ")))
	}
	return c, nil
}

func (c columns) row(rec []string) (Row, error) {
	if len(rec) != c.n {
		return Row{}, fmt.Errorf("has %d fields, the header has %d", len(rec), c.n)
	}
	for _, i := range [...]int{c.email, c.name, c.status, c.subscribedAt} {
		if i >= 0 {
			rec[i] = restoreCell(rec[i])
		}
	}
	email, err := NormalizeAddress(rec[c.email])
	if err != nil {
		return Row{}, err
	}
	row := Row{Email: email, Status: newsletter.StatusActive}
	if c.name >= 0 {
		row.Name = CleanName(rec[c.name])
	}
	if c.status >= 0 && strings.TrimSpace(rec[c.status]) != "" {
		// Clipped: the error quotes it, and a hostile field must not fill memory and the
		// report (no status is near 100 bytes, so validity is unchanged).
		row.Status, err = newsletter.ParseSubscriberStatus(Clip(rec[c.status]))
		if err != nil {
			return Row{}, err
		}
	}
	if c.subscribedAt >= 0 {
		row.SubscribedAt, err = parseTime(Clip(rec[c.subscribedAt]))
		if err != nil {
			return Row{}, err
		}
	}
	return row, nil
}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("subscribed_at %q: want RFC 3339 (2026-05-04T09:30:00Z) or a date (2026-05-04)", s)
}

// skipBOM drops a UTF-8 byte order mark, which spreadsheet programs put at the
// start of exported files and which would otherwise become part of the first
// column's name.
func skipBOM(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\uFEFF" {
		_, _ = br.Discard(3)
	}
	return br
}

// CSVWriter writes subscribers in the format CSVReader reads.
type CSVWriter struct {
	w   *csv.Writer
	rec [4]string
}

// NewCSVWriter writes the header row and returns a writer for the rows.
// Call Flush when done: writes are buffered, and Flush reports their first error.
func NewCSVWriter(w io.Writer) *CSVWriter {
	cw := &CSVWriter{w: csv.NewWriter(w)}
	_ = cw.w.Write([]string{colEmail, colName, colStatus, colSubscribedAt}) // fits the buffer: cannot fail here
	return cw
}

// Write writes one subscriber; subscribed_at is its CreatedAt in RFC 3339 UTC. A cell a
// spreadsheet would take for a formula is neutralised (see neutralCell).
func (cw *CSVWriter) Write(s newsletter.Subscriber) error {
	cw.rec[0] = neutralCell(s.Email)
	cw.rec[1] = neutralCell(s.Name)
	cw.rec[2] = neutralCell(string(s.Status))
	cw.rec[3] = ""
	if !s.CreatedAt.IsZero() {
		cw.rec[3] = s.CreatedAt.UTC().Format(time.RFC3339)
	}
	if err := cw.w.Write(cw.rec[:]); err != nil {
		return fmt.Errorf("csv: %s: %w", s.Email, err)
	}
	return nil
}

// Flush writes any buffered rows and reports the first write error.
func (cw *CSVWriter) Flush() error {
	cw.w.Flush()
	if err := cw.w.Error(); err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	return nil
}

// formulaLike reports whether a spreadsheet opening the CSV would read s, after any
// leading apostrophes, as a formula (or, for tab and CR, strip them and then do so).
func formulaLike(s string) bool {
	rest := strings.TrimLeft(s, "'")
	return rest != "" && strings.IndexByte("=+-@\t\r", rest[0]) >= 0
}

// neutralCell puts an apostrophe, which spreadsheets take as "this is text" and do not
// show, in front of a cell that would start a formula, so that a sign-up named
// =HYPERLINK(...) cannot run in the operator's spreadsheet. Cells that already begin
// with apostrophes before such a character get one more, so that restoreCell, which
// takes one off exactly those, gives back every value as it was.
func neutralCell(s string) string {
	if formulaLike(s) {
		return "'" + s
	}
	return s
}

// restoreCell undoes neutralCell: one apostrophe comes off a cell that begins with
// apostrophes followed by a formula's first character, and nothing else changes. An
// export saved back by a spreadsheet, which drops the apostrophe it showed as text,
// reads the same too.
func restoreCell(s string) string {
	if strings.HasPrefix(s, "'") && formulaLike(s) {
		return s[1:]
	}
	return s
}
