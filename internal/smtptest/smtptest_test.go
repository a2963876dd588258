package smtptest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// dial opens a client session with the standard library's client.
func dial(t *testing.T, s *Server) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Hello("client.example.org"); err != nil {
		t.Fatalf("EHLO: %v", err)
	}
	return c
}

// send runs one transaction and returns the reply code of the first failing command.
func send(c *smtp.Client, from string, to []string, body string) error {
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			c.Reset()
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(body)); err != nil {
		return err
	}
	return w.Close()
}

func code(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

const body = "Subject: hi\r\n\r\nHello\r\n.leading dot\r\n"

func TestRecordsMessages(t *testing.T) {
	s := Start(t)
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || s.Host() != "127.0.0.1" || s.Port() == 0 {
		t.Errorf("Addr %q Host %q Port %d", s.Addr(), s.Host(), s.Port())
	}
	c := dial(t, s)
	for i := range 3 {
		if err := send(c, "bounces@example.org", []string{fmt.Sprintf("r%d@example.com", i), "copy@example.com"}, body); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if err := c.Quit(); err != nil {
		t.Errorf("QUIT: %v", err)
	}
	got := s.Messages()
	if len(got) != 3 {
		t.Fatalf("%d messages, want 3", len(got))
	}
	for i, m := range got {
		if m.From != "bounces@example.org" {
			t.Errorf("From = %q", m.From)
		}
		if want := []string{fmt.Sprintf("r%d@example.com", i), "copy@example.com"}; strings.Join(m.To, ",") != strings.Join(want, ",") {
			t.Errorf("To = %q, want %q", m.To, want)
		}
		if string(m.Data) != body {
			t.Errorf("Data = %q, want %q", m.Data, body)
		}
	}
	if s.Connections() != 1 {
		t.Errorf("Connections = %d, want 1", s.Connections())
	}
	// Messages returns a copy.
	got[0].Data[0] = 'X'
	got[0].To[0] = "changed"
	if again := s.Messages(); again[0].Data[0] != 'S' || again[0].To[0] != "r0@example.com" {
		t.Error("Messages shares memory with the server")
	}
}

func TestAuth(t *testing.T) {
	tests := []struct {
		name       string
		user, pass string
		wantCode   int // of AUTH, or of MAIL when user is empty
	}{
		{name: "right", user: "news", pass: "secret"},
		{name: "wrong password", user: "news", pass: "nope", wantCode: 535},
		{name: "wrong user", user: "other", pass: "secret", wantCode: 535},
		{name: "none", wantCode: 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Start(t, WithAuth("news", "secret"))
			c := dial(t, s)
			if ok, mechs := c.Extension("AUTH"); !ok || !strings.Contains(mechs, "PLAIN") {
				t.Fatalf("AUTH not advertised: %v %q", ok, mechs)
			}
			var err error
			if tt.user != "" {
				// net/smtp allows PLAIN without TLS only towards localhost; 127.0.0.1 is.
				err = c.Auth(smtp.PlainAuth("", tt.user, tt.pass, "127.0.0.1"))
			}
			if err == nil {
				err = send(c, "a@example.org", []string{"b@example.com"}, body)
			}
			if got := code(err); got != tt.wantCode {
				t.Errorf("code %d (%v), want %d", got, err, tt.wantCode)
			}
			if want := map[bool]int{true: 1, false: 0}[tt.wantCode == 0]; len(s.Messages()) != want {
				t.Errorf("%d messages recorded, want %d", len(s.Messages()), want)
			}
		})
	}
	t.Run("not advertised without WithAuth", func(t *testing.T) {
		c := dial(t, Start(t))
		if ok, _ := c.Extension("AUTH"); ok {
			t.Error("AUTH advertised")
		}
	})
}

func TestFailRcpt(t *testing.T) {
	s := Start(t)
	c := dial(t, s)
	s.FailRcpt("Bad@Example.com", 550)
	s.FailRcpt("later@example.com", 451)
	for _, tt := range []struct {
		to   string
		want int
	}{{"bad@example.com", 550}, {"later@example.com", 451}, {"good@example.com", 0}} {
		if got := code(send(c, "a@example.org", []string{tt.to}, body)); got != tt.want {
			t.Errorf("RCPT %s: code %d, want %d", tt.to, got, tt.want)
		}
	}
	s.FailRcpt("bad@example.com", 0)
	if err := send(c, "a@example.org", []string{"bad@example.com"}, body); err != nil {
		t.Errorf("after clearing: %v", err)
	}
	if len(s.Messages()) != 2 {
		t.Errorf("%d messages, want 2", len(s.Messages()))
	}
}

func TestFailData(t *testing.T) {
	s := Start(t)
	c := dial(t, s)
	s.FailData(554, 2)
	var codes []int
	for range 3 {
		codes = append(codes, code(send(c, "a@example.org", []string{"b@example.com"}, body)))
	}
	if fmt.Sprint(codes) != "[554 554 0]" {
		t.Errorf("codes %v, want [554 554 0]", codes)
	}
	if len(s.Messages()) != 1 {
		t.Errorf("%d messages, want 1 (refused ones are not recorded)", len(s.Messages()))
	}
}

func TestDropAfter(t *testing.T) {
	t.Run("after n messages", func(t *testing.T) {
		s := Start(t)
		c := dial(t, s)
		s.DropAfter(2)
		for i := range 2 {
			if err := send(c, "a@example.org", []string{"b@example.com"}, body); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
		}
		if err := c.Noop(); err == nil {
			t.Fatal("NOOP after the drop succeeded")
		}
		if len(s.Messages()) != 2 {
			t.Errorf("%d messages, want 2", len(s.Messages()))
		}
		// A new connection works: the drop fired once.
		c2 := dial(t, s)
		if err := send(c2, "a@example.org", []string{"b@example.com"}, body); err != nil {
			t.Errorf("new connection: %v", err)
		}
		if s.Connections() != 2 {
			t.Errorf("Connections = %d, want 2", s.Connections())
		}
	})
	t.Run("now", func(t *testing.T) {
		s := Start(t)
		c := dial(t, s)
		s.DropAfter(0)
		if err := send(c, "a@example.org", []string{"b@example.com"}, body); err == nil {
			t.Fatal("send after DropAfter(0) succeeded")
		}
		if len(s.Messages()) != 0 {
			t.Errorf("%d messages, want 0", len(s.Messages()))
		}
	})
}

func TestTLS(t *testing.T) {
	t.Run("starttls", func(t *testing.T) {
		s := Start(t, WithStartTLS(), WithAuth("news", "secret"))
		c := dial(t, s)
		if ok, _ := c.Extension("STARTTLS"); !ok {
			t.Fatal("STARTTLS not advertised")
		}
		if err := c.StartTLS(&tls.Config{ServerName: "127.0.0.1", RootCAs: s.CertPool()}); err != nil {
			t.Fatalf("STARTTLS: %v", err)
		}
		if err := c.Auth(smtp.PlainAuth("", "news", "secret", "127.0.0.1")); err != nil {
			t.Fatalf("AUTH: %v", err)
		}
		if err := send(c, "a@example.org", []string{"b@example.com"}, body); err != nil {
			t.Fatal(err)
		}
		if s.Connections() != 1 || len(s.Messages()) != 1 {
			t.Errorf("Connections %d, messages %d; want 1, 1", s.Connections(), len(s.Messages()))
		}
	})
	t.Run("implicit", func(t *testing.T) {
		s := Start(t, WithImplicitTLS())
		conn, err := tls.Dial("tcp", s.Addr(), &tls.Config{ServerName: "localhost", RootCAs: s.CertPool()})
		if err != nil {
			t.Fatalf("TLS dial: %v", err)
		}
		c, err := smtp.NewClient(conn, "localhost")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := send(c, "a@example.org", []string{"b@example.com"}, body); err != nil {
			t.Fatal(err)
		}
		if len(s.Messages()) != 1 {
			t.Errorf("%d messages, want 1", len(s.Messages()))
		}
	})
	t.Run("no pool without TLS", func(t *testing.T) {
		if Start(t).CertPool() != nil {
			t.Error("CertPool without TLS")
		}
	})
}

func TestConcurrentSessions(t *testing.T) {
	s := Start(t)
	var wg sync.WaitGroup
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			c, err := smtp.Dial(s.Addr())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			errs <- send(c, "a@example.org", []string{fmt.Sprintf("r%d@example.com", i)}, body)
			_ = s.Messages()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if len(s.Messages()) != n || s.Connections() != n {
		t.Errorf("%d messages over %d connections, want %d over %d", len(s.Messages()), s.Connections(), n, n)
	}
}

func TestStall(t *testing.T) {
	srv := Start(t)
	srv.Stall(50 * time.Millisecond)
	start := time.Now()
	if err := smtp.SendMail(srv.Addr(), nil, "a@example.org", []string{"b@example.org"}, []byte("Subject: x\r\n\r\nhi\r\n")); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 50*time.Millisecond || len(srv.Messages()) != 1 {
		t.Fatalf("stall not applied (took %v, %d messages)", time.Since(start), len(srv.Messages()))
	}
}

func TestPauseAfter(t *testing.T) {
	srv := Start(t)
	release := srv.PauseAfter(1)
	c := dial(t, srv)
	if err := send(c, "a@example.org", []string{"b@example.org"}, body); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- send(c, "a@example.org", []string{"c@example.org"}, body) }()
	// The second message waits at its DATA until released: not recorded, not answered.
	select {
	case err := <-done:
		t.Fatalf("the paused message was answered (%v)", err)
	default:
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("%d messages while paused, want 1", n)
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Messages()); n != 2 {
		t.Fatalf("%d messages after release, want 2", n)
	}
}

// CertPool trusts the server's certificate; nil without a TLS option.
func (s *Server) CertPool() *x509.CertPool {
	if s.cert == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AddCert(s.cert.Leaf)
	return pool
}
