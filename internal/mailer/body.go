package mailer

import (
	"bytes"
	"fmt"
	"io"
	"mime/quotedprintable"
	"strings"
	"sync"
	"unicode/utf8"
)

// Body is the text and HTML of many messages that differ only in a few fill-ins (an
// unsubscribe URL, an address), quoted-printable encoded and dot-stuffed once, so that a
// message costs its headers and the lines holding fill-ins rather than the whole body.
//
// Quoted-printable starts afresh after every line break (RFC 2045 §6.7: the 76-character
// limit and the trailing-whitespace rule are per line), so a line without a slot encodes the
// same in every message, and a line with one is encoded per message from its filled text:
// the bytes are exactly those of encoding the filled body as a whole.
type Body struct {
	slots []string
	text  *preparedPart // nil when there is no text part
	html  *preparedPart
}

type preparedPart struct {
	chunks   []chunk
	size     int  // bytes of the static chunks, for sizing buffers
	endsLine bool // the part ends with a line break, so what follows starts a line
}

// chunk is one run of whole lines: either static (encoded once) or one line with slots.
type chunk struct {
	encoded []byte   // static: the quoted-printable bytes, CRLF line ends
	stuffed []byte   // static: encoded with dot-stuffing (RFC 5321 §4.5.2) for SMTP DATA
	lits    []string // dynamic: literal text around the slots, len(slots)+1
	slots   []int    // dynamic: index into Body.slots (and the fills) between lits
}

// PrepareBody encodes text and HTML (either may be empty, not both) for messages whose
// fill-ins replace each occurrence of the slot strings (the fills of Message.TextFill and
// Message.HTMLFill, in the order of slots). Slots must be non-empty and free of line breaks.
func PrepareBody(text, html string, slots ...string) (*Body, error) {
	if text == "" && html == "" {
		return nil, fmt.Errorf("%w: Text/HTML: no body", ErrInvalidMessage)
	}
	if !utf8.ValidString(text) || !utf8.ValidString(html) {
		return nil, fmt.Errorf("%w: Text/HTML: not valid UTF-8", ErrInvalidMessage)
	}
	for _, s := range slots {
		if s == "" || strings.ContainsAny(s, "\r\n") {
			return nil, fmt.Errorf("mailer: prepare body: slot %q must be one non-empty line", s)
		}
	}
	b := &Body{slots: slots}
	if text != "" {
		b.text = preparePart(text, slots)
	}
	if html != "" {
		b.html = preparePart(html, slots)
	}
	return b, nil
}

func preparePart(s string, slots []string) *preparedPart {
	p := &preparedPart{endsLine: strings.HasSuffix(s, "\n")}
	var static strings.Builder
	flush := func() {
		if static.Len() == 0 {
			return
		}
		enc := encodeQP(nil, static.String())
		p.chunks = append(p.chunks, chunk{encoded: enc, stuffed: dotStuff(nil, enc, true)})
		p.size += len(enc)
		static.Reset()
	}
	for len(s) > 0 {
		line := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line = s[:i+1]
		}
		s = s[len(line):]
		c, ok := splitSlots(line, slots)
		if !ok {
			static.WriteString(line)
			continue
		}
		flush()
		p.chunks = append(p.chunks, c)
	}
	flush()
	return p
}

// staticPart is s encoded as one chunk, without the dot-stuffed copy that only a Body
// reused for SMTP needs; nil for an empty s.
func staticPart(s string) *preparedPart {
	if s == "" {
		return nil
	}
	enc := encodeQP(nil, s)
	return &preparedPart{chunks: []chunk{{encoded: enc}}, size: len(enc), endsLine: strings.HasSuffix(s, "\n")}
}

// splitSlots cuts line at every occurrence of a slot, earliest first; ok is false when it
// holds none.
func splitSlots(line string, slots []string) (c chunk, ok bool) {
	for {
		at, which := -1, -1
		for i, sl := range slots {
			if j := strings.Index(line, sl); j >= 0 && (at < 0 || j < at) {
				at, which = j, i
			}
		}
		if at < 0 {
			c.lits = append(c.lits, line)
			return c, len(c.slots) > 0
		}
		c.lits = append(c.lits, line[:at])
		c.slots = append(c.slots, which)
		line = line[at+len(slots[which]):]
	}
}

// encodeQP appends the quoted-printable form of s (as mime/quotedprintable writes it, which
// is what go-mail uses) to dst.
func encodeQP(dst []byte, s string) []byte {
	buf := bytes.NewBuffer(dst)
	w := quotedprintable.NewWriter(buf)
	_, _ = io.WriteString(w, s) // a bytes.Buffer does not fail
	_ = w.Close()
	return buf.Bytes()
}

// dotStuff appends p to dst with a '.' doubled at the start of every line, bare LF turned
// into CRLF (as textproto's DotWriter does); bol says whether p starts a line.
func dotStuff(dst, p []byte, bol bool) []byte {
	for len(p) > 0 {
		if bol && p[0] == '.' {
			dst = append(dst, '.')
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			return append(dst, p...)
		}
		if i == 0 || p[i-1] != '\r' {
			dst = append(dst, p[:i]...)
			dst = append(dst, '\r', '\n')
		} else {
			dst = append(dst, p[:i+1]...)
		}
		p = p[i+1:]
		bol = true
	}
	return dst
}

// scratch is one message's working memory: its header block, its dynamic lines before and
// after encoding, and a quoted-printable writer; pooled, as messages are written at a rate of
// thousands a second by a handful of workers.
type scratch struct {
	head    []byte
	hdr     headerScratch
	line    []byte
	enc     bytes.Buffer
	qp      *quotedprintable.Writer // writes to enc; reusable, as Close only flushes
	stuffed []byte
}

var scratchPool = sync.Pool{New: func() any {
	sc := &scratch{}
	sc.qp = quotedprintable.NewWriter(&sc.enc)
	return sc
}}

// write writes the part for one message: static chunks as prepared, dynamic lines filled
// and encoded. With stuffed, the bytes are dot-stuffed for SMTP DATA (the part starts a line).
func (p *preparedPart) write(w io.Writer, fills []string, stuffed bool, sc *scratch) error {
	for i := range p.chunks {
		c := &p.chunks[i]
		if c.lits == nil {
			out := c.encoded
			if stuffed {
				out = c.stuffed
			}
			if _, err := w.Write(out); err != nil {
				return err
			}
			continue
		}
		line := sc.line[:0]
		for k, lit := range c.lits {
			line = append(line, lit...)
			if k < len(c.slots) {
				line = append(line, fills[c.slots[k]]...)
			}
		}
		sc.line = line
		sc.enc.Reset()
		_, _ = sc.qp.Write(line) // a bytes.Buffer does not fail
		_ = sc.qp.Close()
		if len(line) > 0 && line[len(line)-1] == '\r' {
			// The writer would skip a '\n' that comes next as the end of this CRLF.
			sc.qp = quotedprintable.NewWriter(&sc.enc)
		}
		out := sc.enc.Bytes()
		if stuffed {
			sc.stuffed = dotStuff(sc.stuffed[:0], out, true)
			out = sc.stuffed
		}
		if _, err := w.Write(out); err != nil {
			return err
		}
	}
	return nil
}

// size is the bytes of the body's static chunks; 0 for a nil Body.
func (b *Body) size() int {
	n := 0
	if b != nil && b.text != nil {
		n += b.text.size
	}
	if b != nil && b.html != nil {
		n += b.html.size
	}
	return n
}

// checkFill rejects fills (of the field name) that do not match the body's slots.
func (b *Body) checkFill(name string, f []string) error {
	if len(f) != len(b.slots) {
		return fmt.Errorf("%w: %s: %d fill-ins for %d slots", ErrInvalidMessage, name, len(f), len(b.slots))
	}
	for i, s := range f {
		if !utf8.ValidString(s) {
			return fmt.Errorf("%w: %s[%d]: not valid UTF-8", ErrInvalidMessage, name, i)
		}
	}
	return nil
}

// writeBody writes a validated message with a prepared Body; stuffed dot-stuffs it for
// SMTP DATA.
func (m *Message) writeBody(w io.Writer, stuffed bool) error {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	var midAt, tailAt int
	sc.head, midAt, tailAt = m.appendLayout(sc.head[:0], &sc.hdr)
	head, mid, tail := sc.head[:midAt], sc.head[midAt:tailAt], sc.head[tailAt:]
	put := func(p []byte, bol bool) error {
		if stuffed {
			sc.stuffed = dotStuff(sc.stuffed[:0], p, bol)
			p = sc.stuffed
		}
		_, err := w.Write(p)
		return err
	}
	if err := put(head, true); err != nil {
		return err
	}
	// Each part follows its MIME part header and its blank line; prepared chunks start lines.
	b := m.Body
	if b.text != nil {
		if err := b.text.write(w, m.TextFill, stuffed, sc); err != nil {
			return err
		}
		if b.html == nil {
			return put(tail, b.text.endsLine)
		}
		if err := put(mid, b.text.endsLine); err != nil {
			return err
		}
	}
	if err := b.html.write(w, m.HTMLFill, stuffed, sc); err != nil {
		return err
	}
	return put(tail, b.html.endsLine)
}
