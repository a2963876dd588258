package subscriber

import "io"

// MaxRecord caps one CSV record, its final line break aside: a line, or the lines of a
// quoted field that spans several. encoding/csv holds a whole record in memory however
// long it is.
const MaxRecord = 64 << 10

// recordCap sits between the file and encoding/csv. It passes records of up to max bytes
// through unchanged; of a longer one it passes the first max bytes (and a quote that
// closes a quoted field there), drops the rest but for its line breaks, the first of
// which ends the record for csv while csv skips the others as empty lines (so that its
// line numbers stay the file's), and notes where the record started so that the reader
// reports it as a bad row. It finds the ends of records as encoding/csv does: a quoted
// field may hold line breaks, and a quoting error ends the record with its line.
type recordCap struct {
	r   io.Reader
	max int
	buf []byte
	pos int
	end int
	err error

	st       csvState
	n        int    // bytes of the current record passed through
	lines    int    // line breaks passed through: csv is on line lines+1
	recStart int    // the line of the current record's first line
	inject   []byte // the quote that closes a cut record's quoted field
	dropping bool   // the current record is being cut: only its line breaks pass

	cut []int // the line of each cut record's first line, in order
}

// csvState is where a byte falls in a record, as encoding/csv (without LazyQuotes) reads it.
type csvState uint8

const (
	stFieldStart csvState = iota
	stUnquoted
	stQuoted
	stQuote   // a quote inside a quoted field: its end, or the first of an escaped pair
	stQuoteCR // a CR after that quote, which ends the record if LF follows
	stBadLine // after a quoting error csv drops the rest of the line
)

// special marks the bytes that can change csvState or the line count.
var special = [256]bool{'"': true, ',': true, '\n': true, '\r': true}

func newRecordCap(r io.Reader, max int) *recordCap {
	return &recordCap{r: r, max: max, buf: make([]byte, 32<<10), recStart: 1}
}

// Read implements io.Reader.
func (c *recordCap) Read(p []byte) (int, error) {
	out := 0
	for out == 0 && len(p) > 0 {
		if len(c.inject) > 0 {
			n := copy(p, c.inject)
			c.inject = c.inject[n:]
			return n, nil
		}
		if c.pos == c.end {
			if c.err != nil {
				return 0, c.err
			}
			c.pos = 0
			c.end, c.err = c.r.Read(c.buf)
			continue
		}
		for c.pos < c.end && out < len(p) {
			if !c.dropping && (c.st == stUnquoted || c.st == stQuoted) {
				// Inside a field only a few bytes matter: copy the run up to the next.
				lim := min(c.end-c.pos, len(p)-out, c.max-c.n)
				j := 0
				for j < lim && !special[c.buf[c.pos+j]] {
					j++
				}
				if j > 0 {
					copy(p[out:], c.buf[c.pos:c.pos+j])
					out, c.pos, c.n = out+j, c.pos+j, c.n+j
					continue
				}
			}
			b := c.buf[c.pos]
			c.pos++
			if !c.dropping && c.n >= c.max && !(b == '\n' && c.st != stQuoted) {
				c.cut = append(c.cut, c.recStart)
				c.dropping = true
				if c.st == stQuoted {
					c.inject = []byte{'"'}
					c.pos--
					break // the quote goes out before b
				}
			}
			if c.dropping && b != '\n' {
				c.step(b) // only a line break ends a record
				continue
			}
			p[out] = b
			out++
			c.n++
			if b == '\n' {
				c.lines++
			}
			if c.step(b) {
				c.n, c.st, c.recStart, c.dropping = 0, stFieldStart, c.lines+1, false
			}
		}
	}
	return out, nil
}

// step moves the state on by b and reports whether b ended the record.
func (c *recordCap) step(b byte) bool {
	switch c.st {
	case stFieldStart, stUnquoted:
		switch {
		case b == '\n':
			return true
		case b == ',':
			c.st = stFieldStart
		case b == '"' && c.st == stFieldStart:
			c.st = stQuoted
		case b == '"':
			c.st = stBadLine
		default:
			c.st = stUnquoted
		}
	case stQuoted:
		if b == '"' {
			c.st = stQuote
		}
	case stQuote:
		switch b {
		case '"':
			c.st = stQuoted
		case ',':
			c.st = stFieldStart
		case '\n':
			return true
		case '\r':
			c.st = stQuoteCR
		default:
			c.st = stBadLine
		}
	case stQuoteCR:
		if b == '\n' {
			return true
		}
		c.st = stBadLine
	case stBadLine:
		return b == '\n'
	}
	return false
}

// wasCut reports whether the record starting on line l was cut. Calls come with l
// never decreasing.
func (c *recordCap) wasCut(l int) bool {
	for len(c.cut) > 0 && c.cut[0] < l {
		c.cut = c.cut[1:]
	}
	return len(c.cut) > 0 && c.cut[0] == l
}
