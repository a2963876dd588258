// Package bounce reads one mail message that came back after a send and says what it
// reports: a hard or soft bounce (RFC 3464 DSNs and the common plain-text formats), a
// spam complaint (RFC 5965 ARF), or nothing of interest.
package bounce

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"

	"newsletter/internal/newsletter"
)

// Kind is what a message reports.
type Kind string

// Kinds of report.
const (
	Hard      Kind = "hard"      // permanent failure: the address does not take mail
	Soft      Kind = "soft"      // temporary failure or delay
	Complaint Kind = "complaint" // the recipient marked the message as spam (or fraud)
	// Unsubscribe is a message to the List-Unsubscribe mailto: address (RFC 2369, RFC 8058);
	// UnsubscribeToken says who sent it, when they did not tamper with it.
	Unsubscribe Kind = "unsubscribe"
	Irrelevant  Kind = "irrelevant" // not a bounce or complaint (an auto-reply, a success notice, other mail)
)

// Formats a report came in, for the consent log's source.
const (
	FormatDSN    = "dsn" // RFC 3464, or a plain-text bounce
	FormatARF    = "arf" // RFC 5965
	FormatMailto = "mailto"
)

// DefaultMaxBytes caps how much of a message Parse reads.
const DefaultMaxBytes = 10 << 20

// ErrTooLarge is returned for a message over the size cap; nothing of it is parsed.
var ErrTooLarge = errors.New("bounce: message too large")

// ErrUnreadable is wrapped when the input is not a mail message at all.
var ErrUnreadable = errors.New("bounce: not a mail message")

// Report is what one message says about one earlier send.
type Report struct {
	Kind   Kind
	Format string // a Format constant, or the webhook source that reported it
	// VERPToken is the token in the address the report was mailed to (bounces+TOKEN@...).
	VERPToken string
	// MessageID is the returned message's Message-ID, without angle brackets.
	MessageID string
	// UnsubscribeToken is the token in the returned message's List-Unsubscribe header.
	UnsubscribeToken string
	// FinalRecipient is the address that failed (empty when redacted or not given).
	FinalRecipient string
	Status         string    // enhanced status code, 5.1.1
	Reason         string    // the remote server's words, one line
	Date           time.Time // the report's own date; zero when it has none
	// ReportID is the report's own Message-ID, without angle brackets: the same report fed
	// twice is recognised by it.
	ReportID string
}

// Options tune Parse.
type Options struct {
	// MaxBytes caps the message size; 0 means DefaultMaxBytes.
	MaxBytes int64
	// BounceAddress is the configured bounce address (bounces@example.com); the report's
	// recipient bounces+TOKEN@example.com yields VERPToken.
	BounceAddress string
	// UnsubscribeAddress is the List-Unsubscribe mailto: address; a message to it (or to
	// its local+TOKEN@ form) is an unsubscribe request. Empty: none is recognised.
	UnsubscribeAddress string
}

// Parse reads one message from r. A message that is readable but reports nothing is a
// Report of Kind Irrelevant with the Reason why, not an error; an error means the input
// could not be read as a message at all (ErrTooLarge, ErrUnreadable or the reader's).
func Parse(r io.Reader, opt Options) (Report, error) {
	max := opt.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	raw, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return Report{}, fmt.Errorf("bounce: read: %w", err)
	}
	if int64(len(raw)) > max {
		// The rest is left unread: reading it is the caller's choice (a pipe may need it).
		return Report{}, fmt.Errorf("%w: over %d bytes", ErrTooLarge, max)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return Report{}, fmt.Errorf("%w: empty input", ErrUnreadable)
	}
	br := bufio.NewReader(bytes.NewReader(raw))
	th, err := textproto.ReadHeader(br)
	if err != nil {
		// A mangled header line: read the fields leniently, the rest as the body.
		head, body, _ := bytes.Cut(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), []byte("\n\n"))
		th, _ = readHeaderLoose(head)
		br = bufio.NewReader(bytes.NewReader(body))
	}
	if th.Len() == 0 || !looksLikeMail(th) {
		return Report{}, fmt.Errorf("%w: no mail header fields", ErrUnreadable)
	}
	h := message.Header{Header: th}
	p := parser{opt: opt}
	p.rep.Date = parseDate(h.Get("Date"))
	p.rep.ReportID = strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>")
	p.rep.VERPToken = p.verpFrom(h)
	// New's only errors are an unknown charset or transfer encoding: the body is then
	// read as it is.
	ent, _ := message.New(h, br)
	p.walk(ent, 0)
	p.finish(h)
	return p.rep, nil
}

// looksLikeMail reports whether a header has at least one field every mail message or
// report carries, so that a random file is refused rather than called irrelevant.
func looksLikeMail(h textproto.Header) bool {
	return slices.ContainsFunc([]string{"From", "Date", "Message-Id", "Content-Type", "Received", "Return-Path", "Subject", "To"}, h.Has)
}

type parser struct {
	opt Options
	rep Report

	reportType string
	// DSN fields of the worst recipient so far.
	action, diag string
	haveDSN      bool
	// ARF fields.
	feedbackType string
	haveARF      bool
	// returned holds the returned message's header, when found.
	returned *textproto.Header
	// text is the human-readable parts, for plain-text bounces and reasons.
	text []string
}

// maxDepth bounds MIME nesting (a hostile message can nest parts without end).
const maxDepth = 8

func (p *parser) walk(e *message.Entity, depth int) {
	if depth > maxDepth {
		return
	}
	mt, params, _ := e.Header.ContentType()
	mt = strings.ToLower(mt)
	if mr := e.MultipartReader(); mr != nil {
		if mt == "multipart/report" {
			p.reportType = strings.ToLower(params["report-type"])
		}
		for {
			part, err := mr.NextPart()
			if err != nil {
				// io.EOF, or a truncated or broken multipart: keep what was read.
				return
			}
			p.walk(part, depth+1)
		}
	}
	body, err := io.ReadAll(e.Body)
	if err != nil && len(body) == 0 {
		return
	}
	switch mt {
	case "message/delivery-status", "message/global-delivery-status":
		p.deliveryStatus(body)
	case "message/feedback-report":
		p.feedbackReport(body)
	case "message/rfc822", "text/rfc822-headers", "message/rfc822-headers", "message/global", "message/global-headers":
		if p.returned == nil {
			if h, ok := readHeaderLoose(body); ok {
				p.returned = &h
			}
		}
	case "text/plain", "":
		p.text = append(p.text, string(body))
	}
}

// deliveryStatus reads a message/delivery-status body: per-message fields, then one
// block per recipient. The worst recipient (failed over delayed over the rest) wins.
func (p *parser) deliveryStatus(body []byte) {
	blocks := splitBlocks(body)
	if len(blocks) == 0 {
		return
	}
	p.haveDSN = true
	msg := blocks[0]
	if v := msg.Get("X-Postfix-Sender"); v != "" && p.rep.VERPToken == "" {
		p.rep.VERPToken = VERPToken(p.opt.BounceAddress, typedAddress(v))
	}
	best := -1
	for _, b := range blocks[1:] {
		action := strings.ToLower(strings.TrimSpace(b.Get("Action")))
		if action == "" {
			continue
		}
		if rank := map[string]int{"failed": 2, "delayed": 1}[action]; rank > best {
			best = rank
			p.action = action
			p.rep.Status = statusCode(b.Get("Status"))
			p.rep.FinalRecipient = cmp.Or(typedAddress(b.Get("Final-Recipient")), typedAddress(b.Get("Original-Recipient")))
			p.diag = typedValue(b.Get("Diagnostic-Code"))
		}
	}
	if p.rep.Date.IsZero() {
		p.rep.Date = parseDate(msg.Get("Arrival-Date"))
	}
}

func (p *parser) feedbackReport(body []byte) {
	blocks := splitBlocks(body)
	if len(blocks) == 0 {
		return
	}
	p.haveARF = true
	b := blocks[0]
	p.feedbackType = strings.ToLower(strings.TrimSpace(b.Get("Feedback-Type")))
	if v := b.Get("Original-Mail-From"); v != "" && p.rep.VERPToken == "" {
		p.rep.VERPToken = VERPToken(p.opt.BounceAddress, bareAddress(v))
	}
	if v := b.Get("Original-Rcpt-To"); v != "" {
		p.rep.FinalRecipient = bareAddress(v)
	}
	if p.rep.Date.IsZero() {
		p.rep.Date = parseDate(b.Get("Arrival-Date"))
	}
	if p.diag == "" {
		if ua := strings.TrimSpace(b.Get("User-Agent")); ua != "" {
			p.diag = "reported by " + ua
		}
	}
}

// finish decides the kind from what the parts said.
func (p *parser) finish(top message.Header) {
	if p.returned == nil {
		p.returned = returnedFromText(p.text)
	}
	if p.returned != nil {
		p.rep.MessageID = messageID(p.returned.Get("Message-Id"))
		p.rep.UnsubscribeToken = unsubscribeToken(p.returned.Get("List-Unsubscribe"))
		if p.rep.VERPToken == "" {
			p.rep.VERPToken = VERPToken(p.opt.BounceAddress, bareAddress(p.returned.Get("Return-Path")))
		}
	}
	switch {
	case p.haveARF || p.reportType == "feedback-report":
		p.rep.Format = FormatARF
		switch p.feedbackType {
		case "abuse", "fraud":
			reason := "feedback-type " + p.feedbackType
			if p.diag != "" {
				reason += " (" + p.diag + ")"
			}
			p.rep.Kind, p.rep.Reason = Complaint, oneLine(reason)
		case "":
			p.rep.Kind = Irrelevant
			p.rep.Reason = "feedback report without a Feedback-Type (truncated?)"
		default:
			p.rep.Kind = Irrelevant
			p.rep.Reason = "feedback-type " + p.feedbackType + " is not a complaint"
		}
	case p.haveDSN && p.action != "":
		p.rep.Format = FormatDSN
		p.dsnKind()
	case p.haveDSN || p.reportType == "delivery-status":
		p.rep.Kind = Irrelevant
		p.rep.Reason = "delivery status notification without a recipient's Action (truncated?)"
	default:
		if !p.mailto(top) {
			p.plainText(top)
		}
	}
}

// mailto recognises a message to the unsubscribe address: the token is in the address
// (unsubscribe+TOKEN@) or in the subject the mailto: URL set ("unsubscribe TOKEN").
func (p *parser) mailto(top message.Header) bool {
	if p.opt.UnsubscribeAddress == "" {
		return false
	}
	tok, found := "", false
	for _, addr := range recipients(top, "Cc") {
		if t, ok := plusToken(p.opt.UnsubscribeAddress, addr); ok {
			found = true
			tok = cmp.Or(tok, t)
		}
	}
	if !found {
		return false
	}
	if tok == "" {
		// Clients keep the "+" of our mailto: subject=unsubscribe+TOKEN literally (RFC 6068
		// has no "+" for space); a token never holds one.
		f := strings.Fields(strings.ReplaceAll(decodeWord(top.Get("Subject")), "+", " "))
		if len(f) == 2 && strings.EqualFold(f[0], "unsubscribe") {
			tok = f[1]
		}
	}
	p.rep.Format = FormatMailto
	if tok == "" {
		p.rep.Kind = Irrelevant
		p.rep.Reason = "a message to the unsubscribe address without a token"
		return true
	}
	p.rep.Kind = Unsubscribe
	p.rep.UnsubscribeToken = tok
	p.rep.Reason = "mailto unsubscribe"
	if from := bareAddress(top.Get("From")); from != "" {
		p.rep.Reason += " from " + from
	}
	return true
}

func (p *parser) dsnKind() {
	class := ""
	if p.rep.Status != "" {
		class = p.rep.Status[:1]
	}
	switch {
	case p.action == "failed" && class != "4":
		p.rep.Kind = Hard
	case p.action == "failed", p.action == "delayed":
		p.rep.Kind = Soft
	default:
		p.rep.Kind = Irrelevant
		p.rep.Reason = "action " + p.action + ": not a failure"
		return
	}
	p.rep.Reason = cmp.Or(oneLine(p.diag), "action "+p.action)
}

// Plain-text bounces (Exim, qmail, older Postfix and Exchange): recognised by who sent
// them or what they say, classified by the SMTP reply quoted in the text.
var (
	bounceSubject = regexp.MustCompile(`(?i)(undeliver|undelivered mail|delivery status notification|mail delivery failed|delivery failure|returned mail|failure notice|delivery has failed|could not be delivered|warning: message .* delayed|delivery delayed)`)
	bounceFrom    = regexp.MustCompile(`(?i)^(mailer-daemon|postmaster|mail delivery (sub)?system)`)
	enhanced      = regexp.MustCompile(`\b([245])\.(\d{1,3})\.(\d{1,3})\b`)
	basicReply    = regexp.MustCompile(`(?m)\b([45]\d\d)[ -]`)
	emailInText   = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	temporary     = regexp.MustCompile(`(?i)(temporar|delayed|will (be )?retr|not yet been delivered|still trying)`)
	headerLine    = regexp.MustCompile(`(?im)^(return-path|received|message-id|from|date|subject|to|list-unsubscribe|mime-version|dkim-signature):`)
	permanent     = regexp.MustCompile(`(?i)(permanent (error|failure)|could not be delivered|failed permanently|undeliverable|no such user|user unknown|does not exist)`)
)

func (p *parser) plainText(top message.Header) {
	from := top.Get("From")
	if a, err := mail.ParseAddress(from); err == nil {
		from = a.Name + " " + a.Address // trimmed below when there is no name
	}
	failed := top.Get("X-Failed-Recipients")
	subject := decodeWord(top.Get("Subject"))
	if failed == "" && !bounceFrom.MatchString(strings.TrimSpace(from)) && !bounceSubject.MatchString(subject) {
		p.rep.Kind = Irrelevant
		p.rep.Reason = "not a bounce or complaint"
		if subject != "" {
			p.rep.Reason += " (subject " + oneLine(subject) + ")"
		}
		return
	}
	text := strings.Join(p.text, "\n")
	// Only the explanation counts, not the returned copy below it.
	expl := text
	if i := returnedStart(text); i >= 0 {
		expl = text[:i]
	}
	p.rep.Format = FormatDSN
	if failed != "" {
		p.rep.FinalRecipient = bareAddress(strings.Split(failed, ",")[0])
	} else {
		p.rep.FinalRecipient = p.recipientInText(expl)
	}
	var class string
	if code := failureStatus(expl); code != "" {
		p.rep.Status = code
		class = code[:1]
	} else if m := basicReply.FindStringSubmatch(expl); m != nil {
		class = m[1][:1]
		p.rep.Status = class + ".0.0"
	}
	switch {
	case class == "5", class == "" && permanent.MatchString(expl) || class == "" && failed != "":
		p.rep.Kind = Hard
	case class == "4", temporary.MatchString(expl) || temporary.MatchString(subject):
		p.rep.Kind = Soft
	default:
		p.rep.Kind = Irrelevant
		p.rep.Reason = "a delivery notice that reports no failure"
		return
	}
	if class == "" {
		p.rep.Status = map[Kind]string{Hard: "5.0.0", Soft: "4.0.0"}[p.rep.Kind]
	}
	p.rep.Reason = cmp.Or(replyLine(expl), oneLine(subject))
}

// recipientInText is the first address in a plain-text bounce's explanation that is not
// the bounce address itself or a mail system's own.
func (p *parser) recipientInText(expl string) string {
	for _, m := range emailInText.FindAllString(expl, 20) {
		if _, ours := plusToken(p.opt.BounceAddress, m); ours {
			continue
		}
		local, _, _ := strings.Cut(strings.ToLower(m), "@")
		if local == "mailer-daemon" || local == "postmaster" {
			continue
		}
		return m
	}
	return ""
}

// failureStatus is the first 4.x.x or 5.x.x enhanced status code in text that is not part
// of a longer dotted number (an IP address such as 10.4.5.6).
func failureStatus(text string) string {
	for _, loc := range enhanced.FindAllStringSubmatchIndex(text, -1) {
		start, end := loc[0], loc[1]
		if start > 0 && (text[start-1] == '.' || text[start-1] >= '0' && text[start-1] <= '9') {
			continue
		}
		if end+1 < len(text) && text[end] == '.' && text[end+1] >= '0' && text[end+1] <= '9' {
			continue
		}
		if c := text[start]; c == '4' || c == '5' {
			return text[start:end]
		}
	}
	return ""
}

// replyStart opens a line that quotes an SMTP reply ("550 5.1.1 ...", "452-4.2.2 ...").
var replyStart = regexp.MustCompile(`^[45]\d\d[ -]`)

// replyLine is the line of the explanation that quotes the remote server, or its first
// non-empty line.
func replyLine(expl string) string {
	first := ""
	for line := range strings.SplitSeq(expl, "\n") {
		l := strings.TrimSpace(line)
		if l == "" {
			continue
		}
		if first == "" {
			first = l
		}
		if replyStart.MatchString(l) || failureStatus(l) != "" {
			return oneLine(l)
		}
	}
	return oneLine(first)
}

// returnedMarker opens the copy of the original message in plain-text bounces (Exim,
// qmail, others); the first one in the text counts.
var returnedMarker = regexp.MustCompile(`------ This is a copy of the message(, including all the headers|'s headers)\. ------|` +
	`--- Below this line is a copy of the message\.|----- Original message -----|Original message follows`)

// returnedStart is the index of the first returnedMarker in text, -1 when there is none.
func returnedStart(text string) int {
	if loc := returnedMarker.FindStringIndex(text); loc != nil {
		return loc[0]
	}
	return -1
}

// returnedFromText finds the returned header block in a plain-text bounce: the first
// line after a marker (or anywhere, failing that) that starts a header with a
// Message-ID in it.
func returnedFromText(parts []string) *textproto.Header {
	text := strings.Join(parts, "\n")
	start := returnedStart(text)
	if start < 0 {
		start = 0
	} else if nl := strings.IndexByte(text[start:], '\n'); nl >= 0 {
		start += nl + 1
	}
	rest := strings.TrimLeft(text[start:], "\r\n ")
	if h, ok := readHeaderLoose([]byte(rest)); ok && h.Get("Message-Id") != "" {
		return &h
	}
	loc := headerLine.FindStringIndex(rest)
	if loc == nil {
		return nil
	}
	if h, ok := readHeaderLoose([]byte(rest[loc[0]:])); ok && h.Get("Message-Id") != "" {
		return &h
	}
	return nil
}

// readHeaderLoose reads a header block, skipping lines that are not fields (a returned
// header is often mangled by the reporting server) and stopping at the first empty line.
func readHeaderLoose(b []byte) (textproto.Header, bool) {
	var h textproto.Header
	var name string
	var value []string // a folded field's lines, joined once: appending to a string is quadratic
	flush := func() {
		if name != "" {
			h.Add(name, strings.TrimSpace(strings.Join(value, " ")))
		}
		name, value = "", nil
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if name != "" {
				value = append(value, strings.TrimSpace(line))
			}
			continue
		}
		flush()
		i := strings.IndexByte(line, ':')
		if i <= 0 || strings.ContainsAny(line[:i], " \t") {
			continue
		}
		name, value = line[:i], []string{line[i+1:]}
	}
	flush()
	return h, h.Len() > 0
}

// splitBlocks reads consecutive header blocks separated by blank lines (RFC 3464 §2.1,
// RFC 5965 §3.1).
func splitBlocks(body []byte) []textproto.Header {
	var out []textproto.Header
	text := strings.ReplaceAll(string(body), "\r\n", "\n")
	for block := range strings.SplitSeq(text, "\n\n") {
		if h, ok := readHeaderLoose([]byte(strings.TrimLeft(block, "\n"))); ok {
			out = append(out, h)
		}
	}
	return out
}

// recipients lists the addresses in the fields that name a message's envelope recipient,
// then in the extra fields.
func recipients(h message.Header, extra ...string) []string {
	var out []string
	for _, k := range append([]string{"X-Original-To", "Delivered-To", "Envelope-To", "X-Envelope-To", "To"}, extra...) {
		for _, v := range h.Values(k) {
			for part := range strings.SplitSeq(v, ",") {
				out = append(out, bareAddress(part))
			}
		}
	}
	return out
}

// verpFrom looks for the bounce address with a token among the report's envelope recipients.
func (p *parser) verpFrom(h message.Header) string {
	for _, addr := range recipients(h) {
		if t := VERPToken(p.opt.BounceAddress, addr); t != "" {
			return t
		}
	}
	return ""
}

// plusToken reports whether addr is base or base's local+TOKEN@domain form, and TOKEN.
func plusToken(base, addr string) (tok string, ok bool) {
	at := strings.LastIndexByte(base, '@')
	i := strings.LastIndexByte(addr, '@')
	if at <= 0 || i <= 0 || !strings.EqualFold(addr[i+1:], base[at+1:]) {
		return "", false
	}
	local := base[:at]
	if strings.EqualFold(addr[:i], local) {
		return "", true
	}
	prefix := local + "+"
	if len(addr[:i]) <= len(prefix) || !strings.EqualFold(addr[:len(prefix)], prefix) {
		return "", false
	}
	return addr[len(prefix):i], true
}

// bareAddress is the address in a field value: "Name <a@b>", "<a@b>" or "a@b".
func bareAddress(v string) string {
	if a, err := mail.ParseAddress(strings.TrimSpace(v)); err == nil {
		return a.Address
	}
	return messageID(v)
}

// typedAddress reads "rfc822; a@b" (RFC 3464 §2.3.2).
func typedAddress(v string) string {
	t, rest, ok := strings.Cut(v, ";")
	if !ok {
		return bareAddress(v)
	}
	if !strings.EqualFold(strings.TrimSpace(t), "rfc822") {
		return ""
	}
	return bareAddress(rest)
}

// typedValue drops the type of "smtp; 550 5.1.1 ...".
func typedValue(v string) string {
	if t, rest, ok := strings.Cut(v, ";"); ok && !strings.ContainsAny(strings.TrimSpace(t), " \t") {
		return strings.TrimSpace(rest)
	}
	return strings.TrimSpace(v)
}

func statusCode(v string) string {
	v = strings.TrimSpace(v)
	if m := enhanced.FindString(v); m != "" && strings.HasPrefix(v, m) {
		return m
	}
	return ""
}

// messageID is what is between the first angle brackets of v, or v when it is one bare
// word with an "@".
func messageID(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return strings.TrimSpace(v[i+1 : i+j])
		}
	}
	if strings.Contains(v, "@") && !strings.ContainsAny(v, " \t") {
		return v
	}
	return ""
}

// unsubscribeToken finds the token of our List-Unsubscribe: the last path segment of
// .../unsubscribe/TOKEN, or the word after "unsubscribe" in a mailto: subject.
func unsubscribeToken(v string) string {
	for _, part := range strings.Split(v, ",") {
		part = strings.Trim(strings.TrimSpace(part), "<>")
		u, err := url.Parse(part)
		if err != nil {
			continue
		}
		switch strings.ToLower(u.Scheme) {
		case "http", "https":
			if tok, ok := newsletter.UnsubscribeToken(u.Path); ok {
				return tok
			}
		case "mailto":
			if f := strings.Fields(u.Query().Get("subject")); len(f) == 2 && strings.EqualFold(f[0], "unsubscribe") {
				return f[1]
			}
		}
	}
	return ""
}

func parseDate(v string) time.Time {
	t, err := mail.ParseDate(strings.TrimSpace(v))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

func decodeWord(s string) string {
	d, err := new(mime.WordDecoder).DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}

// maxReason caps the reason kept for the consent log.
const maxReason = 200

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxReason {
		s = strings.ToValidUTF8(s[:maxReason], "") + "…"
	}
	return s
}
