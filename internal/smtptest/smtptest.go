// Package smtptest runs an in-process SMTP server (emersion/go-smtp) on 127.0.0.1 for
// tests: it records what it receives and can refuse or drop on demand.
package smtptest

import (
	"bytes"
	"crypto/tls"
	"io"
	"log"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Option configures Start.
type Option func(*config)

type config struct {
	user, pass string
	tls        tlsMode
}

type tlsMode int

const (
	plainText tlsMode = iota
	startTLS
	implicitTLS
)

// WithAuth makes the server demand AUTH PLAIN with these credentials before MAIL. Plain-text
// AUTH is allowed, since tests run without TLS.
func WithAuth(user, pass string) Option {
	return func(c *config) { c.user, c.pass = user, pass }
}

// WithStartTLS makes the server offer STARTTLS with a self-signed certificate for
// 127.0.0.1 and localhost; clients must skip verification.
func WithStartTLS() Option {
	return func(c *config) { c.tls = startTLS }
}

// WithImplicitTLS makes the server speak TLS from the first byte (like port 465), with the
// same certificate as WithStartTLS.
func WithImplicitTLS() Option {
	return func(c *config) { c.tls = implicitTLS }
}

// Received is one accepted message.
type Received struct {
	From string   // MAIL FROM address
	To   []string // RCPT TO addresses
	Data []byte   // the message as received, dot-unstuffed, CRLF line endings
}

// Server is an in-process SMTP server on 127.0.0.1 at a random port.
type Server struct {
	t    testing.TB
	cfg  config
	addr *net.TCPAddr
	cert *tls.Certificate

	mu           sync.Mutex
	msgs         []Received
	conns        int
	failRcpt     map[string]int // lower-cased address → reply code
	failDataN    int
	failDataCode int
	dropLeft     int  // messages to accept before dropping; 0 when no drop is armed
	dropPending  bool // drop the next connection that reads
	stall        time.Duration
	pauseLeft    int           // messages to accept before pausing
	paused       chan struct{} // closed on release; nil when no pause is armed
}

// Start starts a server and registers t.Cleanup to stop it.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{t: t, failRcpt: make(map[string]int)}
	for _, o := range opts {
		o(&s.cfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s.addr = ln.Addr().(*net.TCPAddr)
	var listener net.Listener = dropListener{Listener: ln, srv: s}

	srv := smtp.NewServer(backend{s})
	srv.Domain = "smtptest.localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = time.Minute // a stuck client must not hang the test binary forever
	srv.WriteTimeout = time.Minute
	srv.MaxMessageBytes = 32 << 20
	// go-smtp logs connection errors (the drops we cause among them) after a test may have
	// ended, when t.Log would panic.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if s.cfg.tls != plainText {
		cert, err := selfSigned()
		if err != nil {
			ln.Close()
			t.Fatalf("smtptest: certificate: %v", err)
		}
		s.cert = cert
		tlsConfig := &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}
		if s.cfg.tls == startTLS {
			srv.TLSConfig = tlsConfig
		} else {
			listener = tls.NewListener(listener, tlsConfig)
		}
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(listener) // nil after Close; an accept error only ends the test server
	}()
	t.Cleanup(func() {
		srv.Close()
		// Close the listener too: if Serve had not registered it yet, srv.Close missed it.
		listener.Close()
		<-done
	})
	return s
}

// Addr is "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr.String() }

// Host is "127.0.0.1".
func (s *Server) Host() string { return s.addr.IP.String() }

// Port is the listening port.
func (s *Server) Port() int { return s.addr.Port }

// Messages returns a copy of the accepted messages in order; safe for concurrent use.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.msgs)
	for i, m := range out {
		out[i].To, out[i].Data = slices.Clone(m.To), bytes.Clone(m.Data)
	}
	return out
}

// FailRcpt makes RCPT TO for addr (case-insensitive) answer code, e.g. 550 (permanent) or
// 451 (temporary), until FailRcpt(addr, 0) clears it.
func (s *Server) FailRcpt(addr string, code int) {
	s.t.Helper()
	checkCode(s.t, code)
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(addr)
	if code == 0 {
		delete(s.failRcpt, key)
		return
	}
	s.failRcpt[key] = code
}

// FailData makes the next n DATA commands answer code after the message text (the reply a
// server gives at the final dot). n ≤ 0 clears it.
func (s *Server) FailData(code int, n int) {
	s.t.Helper()
	checkCode(s.t, code)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failDataCode, s.failDataN = code, max(n, 0)
}

// DropAfter makes the server accept n more messages (answering 250 to each) and then close
// that connection abruptly when the client sends its next command, as a crash would.
// n ≤ 0 drops whichever connection next sends a command. It fires once.
func (s *Server) DropAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		s.dropLeft, s.dropPending = 0, true
		return
	}
	s.dropLeft, s.dropPending = n, false
}

// Stall makes every DATA wait d after the message text before it is recorded and answered,
// like a slow or hung server; 0 ends it. A client that times out or dies meanwhile leaves
// the message recorded anyway, as a server that had already queued it would.
func (s *Server) Stall(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stall = max(d, 0)
}

// PauseAfter accepts n more messages, then holds every DATA after them (before it is
// recorded or answered) until release is called, so that a test can look at a client in
// the middle of its work without a clock. The test's cleanup releases it too.
func (s *Server) PauseAfter(n int) (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.pauseLeft, s.paused = max(n, 0), ch
	s.mu.Unlock()
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	s.t.Cleanup(release)
	return release
}

// Connections is how many connections clients opened (a session that says STARTTLS and
// EHLO again still counts once).
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

func checkCode(t testing.TB, code int) {
	t.Helper()
	if code != 0 && (code < 400 || code > 599) {
		t.Fatalf("smtptest: reply code %d, want 4xx or 5xx", code)
	}
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	nc := c.Conn()
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	dc, _ := nc.(*dropConn)
	return &session{s: b.s, conn: dc}, nil
}

// session is one SMTP session; go-smtp calls it from the connection's goroutine only.
type session struct {
	s      *Server
	conn   *dropConn
	authed bool
	from   string
	to     []string
}

func (se *session) AuthMechanisms() []string {
	if se.s.cfg.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (se *session) Auth(mech string) (sasl.Server, error) {
	if se.s.cfg.user == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if (identity != "" && identity != user) || user != se.s.cfg.user || pass != se.s.cfg.pass {
			return smtp.ErrAuthFailed
		}
		se.authed = true
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.s.cfg.user != "" && !se.authed {
		return smtp.ErrAuthRequired
	}
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.s.mu.Lock()
	code := se.s.failRcpt[strings.ToLower(to)]
	se.s.mu.Unlock()
	if code != 0 {
		return &smtp.SMTPError{Code: code, Message: "smtptest: recipient " + to + " refused (" + strconv.Itoa(code) + ")"}
	}
	se.to = append(se.to, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s := se.s
	s.mu.Lock()
	stall := s.stall
	var gate chan struct{}
	if s.paused != nil {
		if s.pauseLeft > 0 {
			s.pauseLeft--
		} else {
			gate = s.paused
		}
	}
	s.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if stall > 0 {
		time.Sleep(stall)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failDataN > 0 {
		s.failDataN--
		return &smtp.SMTPError{Code: s.failDataCode, Message: "smtptest: message refused (" + strconv.Itoa(s.failDataCode) + ")"}
	}
	s.msgs = append(s.msgs, Received{From: se.from, To: append([]string(nil), se.to...), Data: data})
	if s.dropLeft > 0 {
		s.dropLeft--
		if s.dropLeft == 0 && se.conn != nil {
			// Drop once the 250 is out: the connection closes on the client's next command.
			se.conn.armDrop()
		}
	}
	return nil
}

func (se *session) Reset() {
	se.from, se.to = "", nil
}

func (se *session) Logout() error { return nil }

// dropListener hands out dropConns.
type dropListener struct {
	net.Listener
	srv *Server
}

func (l dropListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.srv.mu.Lock()
	l.srv.conns++
	l.srv.mu.Unlock()
	return &dropConn{Conn: c, srv: l.srv}, nil
}

// dropConn closes itself when a read returns after a drop was armed: the server has sent
// its last reply and the client's next command goes unanswered.
type dropConn struct {
	net.Conn
	srv *Server

	mu    sync.Mutex
	armed bool
}

func (c *dropConn) armDrop() {
	c.mu.Lock()
	c.armed = true
	c.mu.Unlock()
}

func (c *dropConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		return n, err
	}
	c.mu.Lock()
	drop := c.armed
	c.armed = false
	c.mu.Unlock()
	if !drop {
		c.srv.mu.Lock()
		drop = c.srv.dropPending
		c.srv.dropPending = false
		c.srv.mu.Unlock()
	}
	if drop {
		c.Conn.Close()
		return 0, io.EOF // go-smtp ends the session quietly on EOF
	}
	return n, nil
}
