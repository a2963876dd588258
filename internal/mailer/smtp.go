package mailer

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// TLS modes of SMTPConfig.TLS.
const (
	TLSNone     = "none"     // plain text; AUTH then works only towards localhost
	TLSStartTLS = "starttls" // STARTTLS required (RFC 3207), port 587 by default
	TLSImplicit = "tls"      // TLS from the first byte (RFC 8314), port 465 by default
)

// SMTPConfig says how to reach and log in to a relay. ParseSMTPURL fills it from a URL.
type SMTPConfig struct {
	Host     string
	Port     int // 0: 587 for starttls and none, 465 for tls
	Username string
	Password string
	TLS      string // TLSNone, TLSStartTLS or TLSImplicit; "" means starttls
	HELO     string // name sent in EHLO; "" means the local host name
	// Timeout is the wait for each reply, the one to the end of DATA included; 0 means
	// go-mail's default (15 s) per command and DataReplyTimeout for the end of DATA.
	Timeout time.Duration
	// Connections, Rate and Weight are not used by this package; they travel with the relay
	// so the caller can size its worker pool and pace it.
	Connections int     // parallel connections; 0 when the URL does not say (the caller picks)
	Rate        float64 // messages per second across all connections, 0 for no limit
	Weight      int     // share of traffic among several relays, default 1
	// InsecureSkipVerify accepts any server certificate. Only settable from code, for tests.
	InsecureSkipVerify bool
	// Signer, when set, signs every message (DKIM) before it is sent. Only settable from code.
	Signer Signer
}

// ParseSMTPURL parses smtp://user:pass@host:port?tls=none|starttls|tls&helo=NAME. User and
// password are URL-decoded (percent-escapes, "+" stays "+"). Further keys: connections=N,
// rate=R (messages per second, float), weight=W and timeout=DURATION ("30s"); any other key
// is an error. Errors name the bad part and never echo the password.
func ParseSMTPURL(s string) (SMTPConfig, error) {
	fail := func(format string, args ...any) (SMTPConfig, error) {
		return SMTPConfig{}, fmt.Errorf("mailer: smtp url: "+format, args...)
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return fail("want smtp://[user:pass@]host[:port][?tls=...]")
	}
	if !strings.EqualFold(scheme, "smtp") {
		if strings.ContainsFunc(scheme, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')
		}) {
			return fail("scheme not supported, want smtp") // not a scheme: may be anything, even a password
		}
		return fail("scheme %q not supported, want smtp", scheme)
	}
	// Split the userinfo off by hand: url.Parse quotes the whole input in its errors, and
	// that would include the password. No valid value after the host holds an '@', so the
	// last one ends the userinfo (an unescaped '@' in the password is thus tolerated).
	var cfg SMTPConfig
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		userinfo := rest[:at]
		rest = rest[at+1:]
		if strings.ContainsAny(userinfo, "/?#") {
			return fail("user or password holds '/', '?' or '#' (percent-encode them), or an '@' follows the host")
		}
		user, pass, hasPass := strings.Cut(userinfo, ":")
		var err error
		if cfg.Username, err = url.PathUnescape(user); err != nil {
			return fail("user: bad %%-escape")
		}
		if cfg.Password, err = url.PathUnescape(pass); err != nil {
			return fail("password: bad %%-escape")
		}
		if cfg.Username == "" && hasPass {
			return fail("password given without user")
		}
	}
	u, err := url.Parse("smtp://" + rest)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the input without userinfo: safe to show
		}
		return fail("%v", err)
	}
	if cfg.Host = u.Hostname(); cfg.Host == "" {
		return fail("missing host")
	}
	if u.Path != "" && u.Path != "/" {
		return fail("unexpected path %q", u.Path)
	}
	if u.Fragment != "" {
		return fail("unexpected fragment %q", u.Fragment)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fail("port %q out of range 1-65535", p)
		}
		cfg.Port = n
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fail("query: %v", err)
	}
	cfg.TLS, cfg.Weight = TLSStartTLS, 1
	for _, key := range slices.Sorted(maps.Keys(query)) { // sorted: the same input, the same error
		values := query[key]
		if len(values) != 1 {
			return fail("%s given %d times", key, len(values))
		}
		v := values[0]
		switch key {
		case "tls":
			switch strings.ToLower(v) {
			case TLSNone, TLSStartTLS, TLSImplicit:
				cfg.TLS = strings.ToLower(v)
			default:
				return fail("tls=%q, want none, starttls or tls", v)
			}
		case "helo":
			if v == "" || strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
				return fail("helo=%q is not a host name", v)
			}
			cfg.HELO = v
		case "connections":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return fail("connections=%q, want a whole number ≥ 1", v)
			}
			cfg.Connections = n
		case "rate":
			r, err := strconv.ParseFloat(v, 64)
			if err != nil || r < 0 || math.IsInf(r, 0) || math.IsNaN(r) {
				return fail("rate=%q, want messages per second ≥ 0", v)
			}
			cfg.Rate = r
		case "weight":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return fail("weight=%q, want a whole number ≥ 1", v)
			}
			cfg.Weight = n
		case "timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fail("timeout=%q, want a duration like 30s", v)
			}
			cfg.Timeout = d
		default:
			return fail("unknown query key %q", key)
		}
	}
	cfg.Port = cmp.Or(cfg.Port, defaultPort(cfg.TLS))
	return cfg, nil
}

// DataReplyTimeout is how long the reply to the end of DATA is awaited when the URL sets
// no timeout: RFC 5321 §4.5.3.2.6 asks for 10 minutes, since a relay may do its filtering
// before it answers, and a client that gives up earlier leaves an accepted message in doubt.
const DataReplyTimeout = 10 * time.Minute

// replyTimeouts are the waits for a command's reply and for the reply to the end of DATA.
func replyTimeouts(cfg SMTPConfig) (command, dataEnd time.Duration) {
	if cfg.Timeout > 0 {
		return cfg.Timeout, cfg.Timeout
	}
	return mail.DefaultTimeout, DataReplyTimeout
}

func defaultPort(mode string) int {
	if mode == TLSImplicit {
		return mail.DefaultPortSSL
	}
	return mail.DefaultPortTLS
}

// SMTP delivers through a relay with go-mail. Each Open dials one connection.
type SMTP struct {
	cfg SMTPConfig
}

// NewSMTP returns a transport for cfg; Open reports a bad configuration.
func NewSMTP(cfg SMTPConfig) *SMTP {
	cfg.TLS = cmp.Or(cfg.TLS, TLSStartTLS)
	cfg.Port = cmp.Or(cfg.Port, defaultPort(cfg.TLS))
	return &SMTP{cfg: cfg}
}

// String implements Transport: the URL without the password.
func (s *SMTP) String() string {
	u := url.URL{
		Scheme:   "smtp",
		Host:     net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port)),
		RawQuery: "tls=" + s.cfg.TLS,
	}
	if s.cfg.Username != "" {
		u.User = url.User(s.cfg.Username)
	}
	return u.String()
}

// Open dials the relay, says EHLO, does STARTTLS or implicit TLS as configured and logs in
// when a Username is set. Cancelling ctx aborts the dial and handshake.
//
// The Sender reuses this one connection for every message. After a connection-level
// failure (a dropped connection, a timeout, a 421 reply, a cancelled context) its Send
// returns a temporary *SendError, and so does every later Send without touching the
// network: Close it and Open a new one.
func (s *SMTP) Open(ctx context.Context) (Sender, error) {
	cfg := s.cfg
	fail := func(err error) (Sender, error) {
		return nil, fmt.Errorf("mailer: %s: %w", s, err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if cfg.Host == "" {
		return fail(errors.New("no host"))
	}
	tlsConfig := &tls.Config{
		ServerName:         cfg.Host,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: cfg.InsecureSkipVerify, // tests only; see SMTPConfig
	}
	sender := &smtpSender{}
	opts := []mail.Option{
		mail.WithPort(cfg.Port),
		mail.WithTLSConfig(tlsConfig),
		mail.WithDialContextFunc(func(dctx context.Context, network, _ string) (net.Conn, error) {
			// go-mail's own address is host + ":" + port, wrong for an IPv6 literal.
			addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
			return sender.dial(ctx, dctx, network, addr, cfg.TLS == TLSImplicit, tlsConfig)
		}),
	}
	switch cfg.TLS {
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
	default:
		return fail(fmt.Errorf("tls %q, want none, starttls or tls", cfg.TLS))
	}
	if cfg.Timeout > 0 {
		opts = append(opts, mail.WithTimeout(cfg.Timeout))
	}
	if cfg.HELO != "" {
		opts = append(opts, mail.WithHELO(cfg.HELO))
	}
	if cfg.Username != "" {
		// Not SMTPAuthAutoDiscover: it only offers PLAIN and LOGIN when go-mail did the TLS
		// itself, and here our own dialer does it (to abort on ctx). go-mail's PLAIN and
		// LOGIN still refuse to send a password over plain text to anything but localhost.
		opts = append(opts,
			mail.WithOpportunisticSMTPAuth(mail.SMTPAuthSCRAMSHA256, mail.SMTPAuthSCRAMSHA1,
				mail.SMTPAuthPlain, mail.SMTPAuthLogin),
			mail.WithUsername(cfg.Username), mail.WithPassword(cfg.Password))
	}
	client, err := mail.NewClient(cfg.Host, opts...)
	if err != nil {
		return fail(err)
	}
	// go-mail dials, says EHLO, applies the TLS policy and logs in; the messages themselves
	// go through its low-level client as bytes, so that they can be DKIM-signed first
	// (go-mail v0.8.1's own signer folds long h= tags wrongly).
	sc, err := client.DialToSMTPClientWithContext(ctx)
	if sender.dialStop != nil && !sender.dialStop() { // ctx was cancelled meanwhile
		err = errors.Join(ctx.Err(), err)
	}
	if err != nil {
		sender.closeConn()
		return fail(err)
	}
	sender.client, sender.sc = client, sc
	sender.timeout, sender.dataTimeout = replyTimeouts(cfg)
	sender.signer = cfg.Signer
	// The MAIL parameters go-mail's client would add.
	if ok, _ := sc.Extension("8BITMIME"); ok {
		sender.mailParams += " BODY=8BITMIME"
	}
	if ok, _ := sc.Extension("SMTPUTF8"); ok {
		sender.mailParams += " SMTPUTF8"
	}
	sender.pipelining, _ = sc.Extension("PIPELINING")
	return sender, nil
}

// smtpSender is one open connection.
type smtpSender struct {
	mu      sync.Mutex
	client  *mail.Client
	sc      *smtp.Client
	timeout time.Duration // per command
	// dataTimeout is the wait for the reply to the end of DATA.
	dataTimeout time.Duration
	signer      Signer
	// mailParams follow MAIL FROM (BODY=8BITMIME, SMTPUTF8 when offered); pipelining says
	// the server offers PIPELINING.
	mailParams string
	pipelining bool
	raw        net.Conn    // the TCP connection under any TLS, closed to abort blocked I/O
	dialStop   func() bool // stops the ctx watch of Open
	broken     error       // set after a connection-level failure
	closed     bool
}

// dial connects and remembers the TCP connection, so that a cancelled ctx can close it
// while go-mail is blocked on it. dctx is go-mail's dial context; it ends when the dial
// function returns, so the watch uses the caller's ctx.
func (s *smtpSender) dial(ctx, dctx context.Context, network, addr string, implicitTLS bool, tlsConfig *tls.Config) (net.Conn, error) {
	var d net.Dialer
	raw, err := d.DialContext(dctx, network, addr)
	if err != nil {
		return nil, err
	}
	s.raw = raw
	s.dialStop = context.AfterFunc(ctx, func() { raw.Close() })
	if !implicitTLS {
		return raw, nil
	}
	// Implicit TLS done here rather than by go-mail, which skips it when given a dialer.
	conn := tls.Client(raw, tlsConfig)
	if err := conn.HandshakeContext(dctx); err != nil {
		return nil, err
	}
	return conn, nil
}

func (s *smtpSender) closeConn() {
	if s.raw != nil {
		s.raw.Close()
	}
}

// wirePool holds the buffers in which a message's DATA is gathered, one per message in flight.
var wirePool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

var errBroken = errors.New("connection unusable after an earlier failure; close and open a new one")

// Send delivers m over the open connection: MAIL, RCPT, DATA with the rendered (and,
// with a Signer, signed) bytes.
func (s *smtpSender) Send(ctx context.Context, m Message) (Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return Receipt{}, &SendError{Err: errors.New("sender closed")}
	case s.broken != nil:
		return Receipt{}, &SendError{Err: fmt.Errorf("%w: %w", errBroken, s.broken)}
	}
	if err := ctx.Err(); err != nil {
		return Receipt{}, &SendError{Err: err}
	}
	// With a signer the whole message is needed first (the signature covers the body), in
	// a pooled buffer; otherwise a prepared body streams straight into DATA.
	var data, sig []byte
	if s.signer != nil || m.Body == nil {
		rb := wirePool.Get().(*bytes.Buffer)
		defer wirePool.Put(rb)
		rb.Reset()
		if _, err := m.WriteTo(rb); err != nil {
			return Receipt{}, err
		}
		data = rb.Bytes()
		if s.signer != nil {
			var err error
			if sig, err = m.sign(s.signer, data); err != nil {
				return Receipt{}, err
			}
		}
	} else if err := m.Validate(); err != nil {
		return Receipt{}, err
	}
	from := m.EnvelopeFrom
	// The low-level client takes no context: closing the connection is the way to unblock it.
	stop := context.AfterFunc(ctx, func() { s.raw.Close() })
	reply, delivered, err := s.transact(from, m.To.Email, func(w io.Writer) error {
		// The whole DATA, terminator included, is gathered first and goes out in one
		// write, not in pieces through the connection's small buffered writer.
		buf := wirePool.Get().(*bytes.Buffer)
		defer wirePool.Put(buf)
		buf.Reset()
		if data != nil {
			buf.Write(dotStuff(dotStuff(buf.AvailableBuffer(), sig, true), data, true))
		} else if err := m.writeBody(buf, true); err != nil {
			return err
		}
		buf.WriteString(".\r\n")
		_, err := w.Write(buf.Bytes())
		return err
	})
	if !stop() {
		s.broken = ctx.Err()
		err = errors.Join(ctx.Err(), err)
	}
	if delivered {
		// The server took the message (250 after DATA). An error now comes from RSET
		// afterwards: the message is sent, the connection is not usable.
		if err != nil && s.broken == nil {
			s.broken = err
		}
		return Receipt{Reply: "250 " + reply}, nil
	}
	se := classify(err)
	var nr *noReplyError
	se.InDoubt = errors.As(err, &nr)
	var re *resetError
	if se.Code == 0 || se.Code == 421 || errors.As(err, &re) {
		// Network error, timeout or "service closing": the session is gone (RFC 5321 §3.8).
		if s.broken == nil {
			s.broken = err
		}
	}
	return Receipt{}, se
}

// transact runs one mail transaction. delivered is true once the server accepted the data.
// MAIL, RCPT and DATA go out in one write when the server offers PIPELINING (RFC 2920), and
// the body is written already dot-stuffed: two round trips per message. No RSET follows a
// delivered message: the end of DATA ends the transaction (RFC 5321 §4.1.1.4).
//
// data writes the message dot-stuffed (RFC 5321 §4.5.2) and its terminating ".\r\n".
func (s *smtpSender) transact(from, to string, data func(io.Writer) error) (reply string, delivered bool, err error) {
	if err := s.sc.UpdateDeadline(s.timeout); err != nil {
		return "", false, err
	}
	text := s.sc.Text
	cmds := [3]string{"MAIL FROM:<" + from + ">" + s.mailParams, "RCPT TO:<" + to + ">", "DATA"}
	codes := [3]int{250, 25, 354}
	var refused error // the first refusal; later replies of a pipelined batch are read and dropped
	granted := false  // the server said 354
	for i := 0; i < len(cmds) && refused == nil; {
		end := i + 1
		if s.pipelining {
			end = len(cmds)
		}
		for _, c := range cmds[i:end] {
			text.W.WriteString(c)
			text.W.WriteString("\r\n")
		}
		if err := text.W.Flush(); err != nil { // a failed write shows here too
			return "", false, err
		}
		for ; i < end; i++ {
			_, _, err := text.ReadResponse(codes[i])
			switch {
			case err == nil:
				granted = i == 2
			case !isReply(err):
				return "", false, err
			case refused == nil:
				refused = err
			}
		}
	}
	if refused != nil {
		if granted {
			// A server that granted DATA after refusing the recipient gets an empty message
			// ended at once, which it must refuse for want of recipients; RSET follows.
			text.W.WriteString(".\r\n")
			if err := text.W.Flush(); err != nil {
				return "", false, err
			}
			if _, _, err := text.ReadResponse(0); err != nil && !isReply(err) {
				return "", false, err
			}
		}
		return "", false, s.reset(refused)
	}
	if err := data(text.W); err != nil {
		return "", false, err
	}
	if err := text.W.Flush(); err != nil {
		return "", false, err
	}
	// From here the relay holds the whole message and may have queued it: a reply that
	// never comes leaves it in doubt, not merely undelivered.
	if err := s.sc.UpdateDeadline(s.dataTimeout); err != nil {
		return "", false, &noReplyError{err: err}
	}
	_, msg, err := text.ReadResponse(250)
	switch {
	case err == nil:
		return msg, true, nil
	case !isReply(err):
		return "", false, &noReplyError{err: err}
	}
	return "", false, s.reset(err)
}

// isReply reports whether err is the server's reply rather than a failure of the connection.
func isReply(err error) bool {
	var tp *textproto.Error
	return errors.As(err, &tp)
}

// noReplyError is a timeout or a lost connection after the end of DATA was sent.
type noReplyError struct{ err error }

func (e *noReplyError) Error() string {
	return "no reply to the end of DATA, the message may have been accepted: " + e.err.Error()
}
func (e *noReplyError) Unwrap() error { return e.err }

// reset says RSET after a refused command so the connection can carry the next message; a
// failing RSET joins err and so marks the connection broken.
func (s *smtpSender) reset(err error) error {
	var tp *textproto.Error
	if !errors.As(err, &tp) || tp.Code == 421 {
		return err // not a reply: the connection itself failed
	}
	if rerr := s.sc.Reset(); rerr != nil {
		return &resetError{reply: err, reset: rerr}
	}
	return err
}

// resetError is a refusal followed by a failed RSET: classified by the refusal, but the
// connection is broken.
type resetError struct{ reply, reset error }

func (e *resetError) Error() string { return e.reply.Error() + "; RSET: " + e.reset.Error() }
func (e *resetError) Unwrap() error { return e.reply }

// classify turns a low-level error into a *SendError. Only a real 5xx reply is permanent;
// a dropped connection, a timeout or a cancelled context has code 0 and is temporary.
func classify(err error) *SendError {
	se := &SendError{Err: err}
	var tp *textproto.Error
	if !errors.As(err, &tp) {
		return se
	}
	se.Code = tp.Code
	se.Permanent = se.Code >= 500 && se.Code <= 599
	se.Reply = strconv.Itoa(tp.Code) + " " + strings.Join(strings.Fields(tp.Msg), " ")
	return se
}

// Close says QUIT on a healthy connection and closes it in any case.
func (s *smtpSender) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	if s.broken == nil {
		err = s.client.CloseWithSMTPClient(s.sc)
	}
	s.closeConn()
	if err != nil {
		return fmt.Errorf("mailer: smtp close: %w", err)
	}
	return nil
}
