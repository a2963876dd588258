// Package mailer builds MIME email messages and delivers them over SMTP or into an
// outbox folder; it knows nothing about newsletters.
package mailer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	netmail "net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidMessage is wrapped by every error of Message.Validate. Sending such a message
// again will fail the same way.
var ErrInvalidMessage = errors.New("mailer: invalid message")

// Address is a mailbox: an optional display name and a bare address (user@example.org).
type Address struct {
	Name  string
	Email string
}

// Header is an extra header field of a message.
type Header struct {
	Name  string
	Value string
}

// Message is one email. Text and HTML become multipart/alternative with text/plain first and
// text/html last (RFC 2046 §5.1.4: the preferred format goes last), both UTF-8 and
// quoted-printable. A message with only one of them is a single part.
type Message struct {
	From         Address
	To           Address
	ReplyTo      string    // optional bare address
	EnvelopeFrom string    // optional MAIL FROM (bounce address); default From.Email
	Subject      string    // may hold any Unicode; encoded as RFC 2047 words when needed
	Date         time.Time // required (the caller's clock)
	MessageID    string    // required, without angle brackets, e.g. "2026-W19.42@news.example.org"
	// Headers are extra fields such as List-Id, List-Unsubscribe, List-Unsubscribe-Post and
	// Precedence. Values must be printable ASCII (encode a non-ASCII phrase with mime.QEncoding
	// first): these are structured fields, and encoding a whole value would break them. Each
	// name may appear once, and the fields this package writes itself (From, Subject,
	// Content-Type, …) cannot be overridden. Generic fields are written sorted by name, as
	// go-mail does, so the order of this slice is not kept; RFC 5322 gives it no meaning.
	Headers  []Header
	Text     string
	HTML     string
	Boundary string // optional fixed MIME boundary, for golden tests
	// Body, when set, replaces Text and HTML (which must then be empty): a body prepared
	// once for many messages, completed by this message's fill-ins for its slots,
	// TextFill for the text part and HTMLFill for the HTML part (already escaped).
	Body               *Body
	TextFill, HTMLFill []string
}

// reservedHeaders are written from the Message fields or by WriteTo (a second copy would
// clash with them, and a Content-Type would replace the multipart one), or have no place in
// a message we send (Bcc, Return-Path).
var reservedHeaders = []string{
	"from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id", "mime-version",
	"content-type", "content-transfer-encoding", "return-path",
}

func isReserved(name string) bool {
	return slices.ContainsFunc(reservedHeaders, func(r string) bool { return strings.EqualFold(r, name) })
}

// Validate rejects a message that cannot be sent safely: a missing or malformed address, a
// missing Date or MessageID, no body, and any control character (CR and LF above all) in the
// Subject, the names, the header names and values or the MessageID, so that no value can
// start a header of its own. Errors wrap ErrInvalidMessage and name the field.
func (m Message) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalidMessage, field, fmt.Sprintf(format, args...)))
	}
	check := func(field string, err error) {
		if err != nil {
			add(field, "%v", err)
		}
	}
	check("From.Name", checkText(m.From.Name))
	check("From.Email", checkEmail(m.From.Email))
	check("To.Name", checkText(m.To.Name))
	check("To.Email", checkEmail(m.To.Email))
	if m.ReplyTo != "" {
		check("ReplyTo", checkEmail(m.ReplyTo))
	}
	if m.EnvelopeFrom != "" {
		check("EnvelopeFrom", checkEmail(m.EnvelopeFrom))
	}
	check("Subject", checkText(m.Subject))
	if m.Date.IsZero() {
		add("Date", "missing")
	}
	check("MessageID", checkMessageID(m.MessageID))
	for i, h := range m.Headers {
		// Field names are formatted only on failure: Validate runs once per message sent.
		field := func() string { return "Headers[" + strconv.Itoa(i) + "]" }
		if err := checkHeaderName(h.Name); err != nil {
			add(field()+".Name", "%v", err)
			continue
		}
		switch {
		case isReserved(h.Name):
			add(field()+".Name", "%q cannot be set as an extra header", h.Name)
		case slices.ContainsFunc(m.Headers[:i], func(o Header) bool { return strings.EqualFold(o.Name, h.Name) }):
			add(field()+".Name", "%q given twice", h.Name)
		}
		if err := checkHeaderValue(h.Value); err != nil {
			add(field()+".Value", "%s: %v", h.Name, err)
		}
	}
	switch {
	case m.Body != nil && (m.Text != "" || m.HTML != ""):
		add("Text/HTML", "set together with a prepared Body")
	case m.Body != nil:
		if err := errors.Join(m.Body.checkFill("TextFill", m.TextFill), m.Body.checkFill("HTMLFill", m.HTMLFill)); err != nil {
			errs = append(errs, err)
		}
	case m.Text == "" && m.HTML == "":
		add("Text/HTML", "no body")
	}
	if !utf8.ValidString(m.Text) {
		add("Text", "not valid UTF-8")
	}
	if !utf8.ValidString(m.HTML) {
		add("HTML", "not valid UTF-8")
	}
	if m.Boundary != "" {
		if err := multipart.NewWriter(io.Discard).SetBoundary(m.Boundary); err != nil {
			add("Boundary", "%v", err)
		}
	}
	return errors.Join(errs...)
}

// checkText accepts any valid UTF-8 without control characters (C0, DEL, C1).
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	for i, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("control character %U at byte %d", r, i)
		}
	}
	return checkWords(s)
}

// maxWord bounds a run without spaces: header fields fold only at spaces (appendField), and
// RFC 5322 §2.1.1 caps a line at 998 characters.
const maxWord = 900

func checkWords(s string) error {
	for w := range strings.FieldsSeq(s) {
		if len(w) > maxWord {
			return fmt.Errorf("a word of %d bytes cannot be folded (max %d)", len(w), maxWord)
		}
	}
	return nil
}

// checkEmail accepts a bare addr-spec (RFC 5322 §3.4.1), nothing around it.
func checkEmail(email string) error {
	if email == "" {
		return errors.New("missing")
	}
	if isSimpleEmail(email) {
		return nil // what net/mail accepts as is; checked without allocating, once per message
	}
	if err := checkText(email); err != nil {
		return err
	}
	a, err := netmail.ParseAddress(email)
	if err != nil {
		return fmt.Errorf("%q is not an address: %v", email, err)
	}
	if a.Name != "" || a.Address != email {
		return fmt.Errorf("%q is not a bare address like user@example.org", email)
	}
	return nil
}

// isSimpleEmail reports an ASCII dot-atom "@" dot-atom (RFC 5322 §3.4.1) of at most maxWord
// bytes: an address net/mail.ParseAddress returns unchanged, without a name.
func isSimpleEmail(email string) bool {
	if len(email) > maxWord {
		return false
	}
	at := strings.IndexByte(email, '@')
	return at >= 0 && isDotAtom(email[:at]) && isDotAtom(email[at+1:])
}

func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && !isASCIIAtext(c) {
			return false
		}
	}
	return true
}

// checkMessageID accepts id-left "@" id-right of printable ASCII (RFC 5322 §3.6.4), without
// the angle brackets.
func checkMessageID(id string) error {
	if id == "" {
		return errors.New("missing")
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' {
			return fmt.Errorf("byte %#02x at %d not allowed (printable ASCII without spaces or angle brackets)", c, i)
		}
	}
	left, right, ok := strings.Cut(id, "@")
	if !ok || left == "" || right == "" || strings.Contains(right, "@") {
		return fmt.Errorf("%q is not of the form left@right", id)
	}
	return nil
}

// checkHeaderName accepts ftext: printable ASCII except colon (RFC 5322 §2.2).
func checkHeaderName(name string) error {
	if name == "" {
		return errors.New("missing")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return fmt.Errorf("byte %#02x at %d not allowed in a header name", c, i)
		}
	}
	return nil
}

// checkHeaderValue accepts printable ASCII and spaces: no CR, LF, tab or other control.
func checkHeaderValue(v string) error {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' || c >= 0x7f {
			return fmt.Errorf("byte %#02x at %d not allowed (printable ASCII only)", c, i)
		}
	}
	return checkWords(v)
}

// Signer signs a rendered message, with DKIM-Signature header fields for instance.
type Signer interface {
	// Signature returns the header fields, each ending in CRLF, that go in front of msg; it
	// must not change msg.
	Signature(msg []byte) ([]byte, error)
}

// Render returns the message as WriteTo writes it, signed by signer when it is not nil:
// the bytes the outbox stores and SMTP sends.
func (m Message) Render(signer Signer) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(m.HTML) + len(m.Text) + m.Body.size() + 2048)
	if _, err := m.WriteTo(&buf); err != nil {
		return nil, err
	}
	if signer == nil {
		return buf.Bytes(), nil
	}
	sig, err := m.sign(signer, buf.Bytes())
	if err != nil {
		return nil, err
	}
	return append(sig, buf.Bytes()...), nil
}

func (m *Message) sign(signer Signer, msg []byte) ([]byte, error) {
	sig, err := signer.Signature(msg)
	if err != nil {
		return nil, fmt.Errorf("mailer: sign message %s: %w", m.MessageID, err)
	}
	return sig, nil
}

// WriteTo renders the message as RFC 5322 text with CRLF line endings. It returns the
// number of bytes written; an invalid message writes nothing.
func (m Message) WriteTo(w io.Writer) (int64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if m.Body == nil {
		// The body as a prepared one without slots: one MIME writer for every message.
		m.Body, m.Text, m.HTML = &Body{text: staticPart(m.Text), html: staticPart(m.HTML)}, "", ""
	}
	cw := &countWriter{w: w}
	if err := m.writeBody(cw, false); err != nil {
		return cw.n, fmt.Errorf("mailer: write message %s: %w", m.MessageID, err)
	}
	return cw.n, nil
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
