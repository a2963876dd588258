package mailer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"newsletter/internal/smtptest"
)

func TestParseSMTPURL(t *testing.T) {
	const secret = "s3cr%2Ft+pa:ss" // decodes to "s3cr/t+pa:ss"
	tests := []struct {
		name    string
		url     string
		want    SMTPConfig
		wantErr string // substring of the error; "" means success
	}{
		{name: "defaults", url: "smtp://mail.example.org",
			want: SMTPConfig{Host: "mail.example.org", Port: 587, TLS: "starttls", Weight: 1}},
		{name: "starttls explicit", url: "smtp://mail.example.org:2525?tls=starttls",
			want: SMTPConfig{Host: "mail.example.org", Port: 2525, TLS: "starttls", Weight: 1}},
		{name: "tls default port", url: "smtp://mail.example.org?tls=tls",
			want: SMTPConfig{Host: "mail.example.org", Port: 465, TLS: "tls", Weight: 1}},
		{name: "none default port", url: "smtp://localhost?tls=none",
			want: SMTPConfig{Host: "localhost", Port: 587, TLS: "none", Weight: 1}},
		{name: "none with port", url: "smtp://127.0.0.1:25/?tls=NONE",
			want: SMTPConfig{Host: "127.0.0.1", Port: 25, TLS: "none", Weight: 1}},
		{name: "encoded credentials", url: "smtp://news%40example.org:" + secret + "@mail.example.org:587",
			want: SMTPConfig{Host: "mail.example.org", Port: 587, Username: "news@example.org", Password: "s3cr/t+pa:ss", TLS: "starttls", Weight: 1}},
		{name: "user without password", url: "smtp://apikey@mail.example.org",
			want: SMTPConfig{Host: "mail.example.org", Port: 587, Username: "apikey", TLS: "starttls", Weight: 1}},
		{name: "IPv6", url: "smtp://[::1]:2525?tls=none",
			want: SMTPConfig{Host: "::1", Port: 2525, TLS: "none", Weight: 1}},
		{name: "all keys", url: "smtp://u:p@mail.example.org?tls=tls&helo=news.example.org&connections=4&rate=2.5&weight=3&timeout=45s",
			want: SMTPConfig{Host: "mail.example.org", Port: 465, Username: "u", Password: "p", TLS: "tls", HELO: "news.example.org",
				Timeout: 45 * time.Second, Connections: 4, Rate: 2.5, Weight: 3}},
		{name: "upper-case scheme", url: "SMTP://mail.example.org",
			want: SMTPConfig{Host: "mail.example.org", Port: 587, TLS: "starttls", Weight: 1}},

		{name: "bad scheme", url: "http://u:" + secret + "@mail.example.org", wantErr: `scheme "http"`},
		{name: "smtps scheme", url: "smtps://mail.example.org", wantErr: `scheme "smtps"`},
		{name: "no scheme but a password", url: "u:s3cret@mail.example.org://", wantErr: "scheme not supported"},
		{name: "two bad keys", url: "smtp://mail.example.org?zz=1&aa=2", wantErr: `unknown query key "aa"`},
		{name: "no scheme", url: "mail.example.org:587", wantErr: "want smtp://"},
		{name: "missing host", url: "smtp://u:" + secret + "@:587", wantErr: "missing host"},
		{name: "empty", url: "smtp://", wantErr: "missing host"},
		{name: "port not a number", url: "smtp://u:" + secret + "@mail.example.org:abc", wantErr: "port"},
		{name: "port zero", url: "smtp://u:" + secret + "@mail.example.org:0", wantErr: `port "0"`},
		{name: "port too big", url: "smtp://u:" + secret + "@mail.example.org:70000", wantErr: `port "70000"`},
		{name: "unknown key", url: "smtp://u:" + secret + "@mail.example.org?tsl=none", wantErr: `unknown query key "tsl"`},
		{name: "bad tls", url: "smtp://u:" + secret + "@mail.example.org?tls=ssl", wantErr: `tls="ssl"`},
		{name: "tls twice", url: "smtp://mail.example.org?tls=none&tls=tls", wantErr: "tls given 2 times"},
		{name: "bad connections", url: "smtp://u:" + secret + "@mail.example.org?connections=0", wantErr: "connections"},
		{name: "bad rate", url: "smtp://mail.example.org?rate=-1", wantErr: "rate"},
		{name: "NaN rate", url: "smtp://mail.example.org?rate=NaN", wantErr: "rate"},
		{name: "bad weight", url: "smtp://mail.example.org?weight=x", wantErr: "weight"},
		{name: "bad timeout", url: "smtp://mail.example.org?timeout=soon", wantErr: "timeout"},
		{name: "empty helo", url: "smtp://mail.example.org?helo=", wantErr: "helo"},
		{name: "path", url: "smtp://u:" + secret + "@mail.example.org/inbox", wantErr: "unexpected path"},
		{name: "bad escape in password", url: "smtp://u:s3cr%zzet@mail.example.org", wantErr: "password: bad %-escape"},
		{name: "unescaped slash in password", url: "smtp://u:s3cr/et@mail.example.org:587", wantErr: "percent-encode"},
		{name: "unescaped question mark in password", url: "smtp://u:s3cr?et@mail.example.org", wantErr: "percent-encode"},
		{name: "at sign after host", url: "smtp://mail.example.org?helo=a@b", wantErr: "percent-encode"},
		{name: "unescaped at in password", url: "smtp://u:s3cr@et@mail.example.org",
			want: SMTPConfig{Host: "mail.example.org", Port: 587, Username: "u", Password: "s3cr@et", TLS: "starttls", Weight: 1}},
		{name: "fragment", url: "smtp://u:" + secret + "@mail.example.org#x", wantErr: "fragment"},
		{name: "bad query escape", url: "smtp://u:" + secret + "@mail.example.org?tls=%zz", wantErr: "query"},
		{name: "password without user", url: "smtp://:" + secret + "@mail.example.org", wantErr: "without user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSMTPURL(tt.url)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseSMTPURL: %v", err)
				}
				if got != tt.want {
					t.Errorf("got  %+v\nwant %+v", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseSMTPURL accepted it: %+v", got)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantErr) {
				t.Errorf("error %q does not contain %q", msg, tt.wantErr)
			}
			for _, leak := range []string{"s3cr", "zzet", "pa:ss", "et@"} {
				if strings.Contains(msg, leak) {
					t.Errorf("error %q leaks the password", msg)
				}
			}
		})
	}
}

func TestSMTPString(t *testing.T) {
	cfg, err := ParseSMTPURL("smtp://news%40example.org:hunter2@mail.example.org?tls=tls")
	if err != nil {
		t.Fatal(err)
	}
	got := NewSMTP(cfg).String()
	if want := "smtp://news%40example.org@mail.example.org:465?tls=tls"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if strings.Contains(got, "hunter2") {
		t.Error("String leaks the password")
	}
}

// newSMTP points a transport at srv without TLS.
func newSMTP(srv *smtptest.Server, user, pass string) *SMTP {
	return NewSMTP(SMTPConfig{Host: srv.Host(), Port: srv.Port(), TLS: TLSNone, Username: user, Password: pass,
		HELO: "client.example.org", Timeout: 5 * time.Second})
}

// numbered returns sampleMessage with its own recipient and MessageID.
func numbered(i int) Message {
	m := sampleMessage()
	m.To = Address{Name: fmt.Sprintf("Reader %d", i), Email: fmt.Sprintf("reader%d@example.com", i)}
	m.MessageID = fmt.Sprintf("2026-W19.%d@news.example.org", i)
	m.Boundary = ""
	return m
}

func open(t *testing.T, tr Transport) Sender {
	t.Helper()
	s, err := tr.Open(context.Background())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSMTPReusesOneConnection(t *testing.T) {
	srv := smtptest.Start(t, smtptest.WithAuth("news", "p@ss w0rd"))
	s := open(t, newSMTP(srv, "news", "p@ss w0rd"))
	ctx := context.Background()
	const n = 5
	for i := range n {
		r, err := s.Send(ctx, numbered(i))
		if err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
		if !strings.HasPrefix(r.Reply, "250 ") {
			t.Errorf("Reply = %q, want a 250 reply", r.Reply)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if got := srv.Connections(); got != 1 {
		t.Errorf("Connections = %d, want 1", got)
	}
	got := srv.Messages()
	if len(got) != n {
		t.Fatalf("server received %d messages, want %d", len(got), n)
	}
	for i, r := range got {
		if r.From != "bounces@news.example.org" {
			t.Errorf("message %d MAIL FROM %q, want the envelope sender", i, r.From)
		}
		if want := fmt.Sprintf("reader%d@example.com", i); len(r.To) != 1 || r.To[0] != want {
			t.Errorf("message %d RCPT TO %q, want %s", i, r.To, want)
		}
		msg, err := netmail.ReadMessage(bytes.NewReader(r.Data))
		if err != nil {
			t.Fatalf("message %d unreadable: %v", i, err)
		}
		if got, want := msg.Header.Get("Message-Id"), fmt.Sprintf("<2026-W19.%d@news.example.org>", i); got != want {
			t.Errorf("message %d Message-Id %q, want %q", i, got, want)
		}
		if msg.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Errorf("message %d lost List-Unsubscribe-Post", i)
		}
		if msg.Header.Get("User-Agent") != "" || msg.Header.Get("X-Mailer") != "" {
			t.Errorf("message %d carries go-mail's User-Agent", i)
		}
	}
}

func TestSMTPWireMatchesWriteTo(t *testing.T) {
	srv := smtptest.Start(t)
	s := open(t, newSMTP(srv, "", ""))
	m := sampleMessage()
	if _, err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if len(got) != 1 || !bytes.Equal(got[0].Data, render(t, m)) {
		t.Errorf("bytes on the wire differ from WriteTo")
	}
}

func TestSMTPAuth(t *testing.T) {
	tests := []struct {
		name       string
		user, pass string
		wantErr    bool
	}{
		{name: "right password", user: "news", pass: "secret"},
		{name: "wrong password", user: "news", pass: "wrong", wantErr: true},
		{name: "no credentials", wantErr: true}, // server refuses MAIL before AUTH
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t, smtptest.WithAuth("news", "secret"))
			s, err := newSMTP(srv, tt.user, tt.pass).Open(context.Background())
			if err == nil {
				defer s.Close()
				_, err = s.Send(context.Background(), numbered(1))
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), tt.pass) && tt.pass != "" {
				t.Errorf("error leaks the password: %v", err)
			}
			if want := map[bool]int{false: 1, true: 0}[tt.wantErr]; len(srv.Messages()) != want {
				t.Errorf("server received %d messages, want %d", len(srv.Messages()), want)
			}
		})
	}
}

func TestSMTPTLS(t *testing.T) {
	tests := []struct {
		name string
		opt  smtptest.Option
		mode string
	}{
		{name: "starttls", opt: smtptest.WithStartTLS(), mode: TLSStartTLS},
		{name: "implicit tls", opt: smtptest.WithImplicitTLS(), mode: TLSImplicit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t, tt.opt, smtptest.WithAuth("news", "secret"))
			cfg := SMTPConfig{Host: srv.Host(), Port: srv.Port(), TLS: tt.mode, Username: "news", Password: "secret",
				Timeout: 5 * time.Second, InsecureSkipVerify: true}
			s := open(t, NewSMTP(cfg))
			for i := range 2 {
				if _, err := s.Send(context.Background(), numbered(i)); err != nil {
					t.Fatalf("Send: %v", err)
				}
			}
			if len(srv.Messages()) != 2 || srv.Connections() != 1 {
				t.Errorf("received %d messages over %d connections, want 2 over 1", len(srv.Messages()), srv.Connections())
			}
		})
	}
	t.Run("starttls refused by plain server", func(t *testing.T) {
		srv := smtptest.Start(t)
		_, err := NewSMTP(SMTPConfig{Host: srv.Host(), Port: srv.Port(), Timeout: 5 * time.Second}).Open(context.Background())
		if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Errorf("err = %v, want a STARTTLS error", err)
		}
	})
	t.Run("unverified certificate", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithImplicitTLS())
		_, err := NewSMTP(SMTPConfig{Host: srv.Host(), Port: srv.Port(), TLS: TLSImplicit, Timeout: 5 * time.Second}).Open(context.Background())
		if err == nil {
			t.Error("Open trusted a self-signed certificate")
		}
	})
}

func TestSMTPFailures(t *testing.T) {
	tests := []struct {
		name      string
		arrange   func(*smtptest.Server)
		permanent bool
		code      int
	}{
		{name: "RCPT 550", arrange: func(s *smtptest.Server) { s.FailRcpt("reader1@example.com", 550) }, permanent: true, code: 550},
		{name: "RCPT 451", arrange: func(s *smtptest.Server) { s.FailRcpt("READER1@example.com", 451) }, code: 451},
		{name: "DATA 554", arrange: func(s *smtptest.Server) { s.FailData(554, 1) }, permanent: true, code: 554},
		{name: "DATA 452", arrange: func(s *smtptest.Server) { s.FailData(452, 1) }, code: 452},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t)
			s := open(t, newSMTP(srv, "", ""))
			ctx := context.Background()
			tt.arrange(srv)
			_, err := s.Send(ctx, numbered(1))
			var se *SendError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v (%T), want *SendError", err, err)
			}
			if se.Permanent != tt.permanent || IsPermanent(err) != tt.permanent {
				t.Errorf("Permanent = %v, want %v", se.Permanent, tt.permanent)
			}
			if se.Code != tt.code {
				t.Errorf("Code = %d, want %d", se.Code, tt.code)
			}
			if want := fmt.Sprintf("%d %d.0.0 smtptest: ", tt.code, tt.code/100); !strings.HasPrefix(se.Reply, want) {
				t.Errorf("Reply = %q, want the server's reply %q…", se.Reply, want)
			}
			// The refusal was per message: the same connection delivers the next one.
			if _, err := s.Send(ctx, numbered(2)); err != nil {
				t.Errorf("next Send on the same connection: %v", err)
			}
			if len(srv.Messages()) != 1 || srv.Connections() != 1 {
				t.Errorf("received %d messages over %d connections, want 1 over 1", len(srv.Messages()), srv.Connections())
			}
		})
	}
}

func TestSMTPDroppedConnection(t *testing.T) {
	srv := smtptest.Start(t)
	tr := newSMTP(srv, "", "")
	ctx := context.Background()
	s, err := tr.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv.DropAfter(2)
	for i := range 2 {
		if _, err := s.Send(ctx, numbered(i)); err != nil {
			t.Fatalf("Send %d (accepted before the drop): %v", i, err)
		}
	}
	_, err = s.Send(ctx, numbered(2))
	var se *SendError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *SendError", err)
	}
	if se.Permanent || IsPermanent(err) || se.Code != 0 {
		t.Errorf("dropped connection: Permanent=%v Code=%d, want temporary with code 0 (%v)", se.Permanent, se.Code, err)
	}
	// The sender stays broken until reopened.
	if _, err := s.Send(ctx, numbered(3)); err == nil || IsPermanent(err) {
		t.Errorf("Send on a broken sender: %v, want a temporary error", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close of a broken sender: %v", err)
	}

	s = open(t, tr)
	if _, err := s.Send(ctx, numbered(2)); err != nil {
		t.Fatalf("Send after reopening: %v", err)
	}
	if got := len(srv.Messages()); got != 3 {
		t.Errorf("server accepted %d messages, want 3", got)
	}
	if got := srv.Connections(); got != 2 {
		t.Errorf("Connections = %d, want 2", got)
	}
}

func TestSMTPDropAfterLastMessageStillDelivered(t *testing.T) {
	// The server says 250 and then vanishes: go-mail's NOOP/RSET after DATA fails, but the
	// message was delivered and must be reported so, or it would be sent twice.
	srv := smtptest.Start(t)
	s := open(t, newSMTP(srv, "", ""))
	srv.DropAfter(1)
	r, err := s.Send(context.Background(), numbered(1))
	if err != nil || !strings.HasPrefix(r.Reply, "250") {
		t.Fatalf("Send = %q, %v; want delivered", r.Reply, err)
	}
	if _, err := s.Send(context.Background(), numbered(2)); err == nil || IsPermanent(err) {
		t.Errorf("next Send = %v, want a temporary error", err)
	}
}

func TestSMTPContext(t *testing.T) {
	t.Run("cancelled before Open", func(t *testing.T) {
		srv := smtptest.Start(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := newSMTP(srv, "", "").Open(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if srv.Connections() != 0 {
			t.Error("dialled despite a cancelled context")
		}
	})
	t.Run("cancelled before Send", func(t *testing.T) {
		srv := smtptest.Start(t)
		s := open(t, newSMTP(srv, "", ""))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := s.Send(ctx, numbered(1))
		if !errors.Is(err, context.Canceled) || IsPermanent(err) {
			t.Errorf("err = %v, want temporary context.Canceled", err)
		}
		if len(srv.Messages()) != 0 {
			t.Error("message sent despite a cancelled context")
		}
		// Nothing was on the wire, so the connection is still good.
		if _, err := s.Send(context.Background(), numbered(2)); err != nil {
			t.Errorf("Send after a refused cancelled Send: %v", err)
		}
	})
	t.Run("cancelled while the server stalls", func(t *testing.T) {
		// A server that accepts and never greets: only the context can end Open early.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		addr := ln.Addr().(*net.TCPAddr)
		tr := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: addr.Port, TLS: TLSNone, Timeout: time.Minute})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err = tr.Open(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want context.DeadlineExceeded", err)
		}
		if took := time.Since(start); took > 30*time.Second {
			t.Errorf("Open took %v despite the context", took)
		}
	})
}

func TestSMTPInvalidMessage(t *testing.T) {
	srv := smtptest.Start(t)
	s := open(t, newSMTP(srv, "", ""))
	bad := numbered(1)
	bad.Headers = append(bad.Headers, Header{Name: "X-Evil", Value: "a\r\nBcc: victim@example.com"})
	_, err := s.Send(context.Background(), bad)
	if !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("err = %v, want ErrInvalidMessage", err)
	}
	var se *SendError
	if errors.As(err, &se) {
		t.Errorf("invalid message reported as a delivery failure: %v", err)
	}
	if _, err := s.Send(context.Background(), numbered(2)); err != nil {
		t.Errorf("next Send: %v", err)
	}
	if len(srv.Messages()) != 1 {
		t.Errorf("server received %d messages, want 1", len(srv.Messages()))
	}
}

func TestSMTPOpenErrors(t *testing.T) {
	srv := smtptest.Start(t)
	tests := []struct {
		name string
		cfg  SMTPConfig
		want string
	}{
		{name: "no host", cfg: SMTPConfig{Port: 25}, want: "no host"},
		{name: "bad tls", cfg: SMTPConfig{Host: srv.Host(), Port: srv.Port(), TLS: "ssl"}, want: `tls "ssl"`},
		{name: "refused", cfg: SMTPConfig{Host: "127.0.0.1", Port: 1, TLS: TLSNone, Password: "hunter2"}, want: "refused"},
		{name: "auth not offered", cfg: SMTPConfig{Host: srv.Host(), Port: srv.Port(), TLS: TLSNone, Username: "u", Password: "hunter2"}, want: "AUTH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSMTP(tt.cfg).Open(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestIsPermanent(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain error", errors.New("boom"), false},
		{"temporary", &SendError{Code: 451}, false},
		{"permanent", &SendError{Permanent: true, Code: 550}, true},
		{"wrapped permanent", fmt.Errorf("delivery: %w", &SendError{Permanent: true, Code: 554}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsPermanent(tt.err); got != tt.want {
				t.Errorf("IsPermanent = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSMTPDialsIPv6Literal(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer ln.Close()
	accepted := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		close(accepted)
		c.Close() // no greeting: Open fails, but it got here
	}()
	cfg, err := ParseSMTPURL(fmt.Sprintf("smtp://[::1]:%d?tls=none&timeout=5s", ln.Addr().(*net.TCPAddr).Port))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewSMTP(cfg).Open(context.Background()); err == nil {
		t.Fatal("Open succeeded against a silent server")
	}
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("never connected to [::1]")
	}
}

// TestSMTPNoReplyToDataIsInDoubt: the relay has the whole message but answers the end of
// DATA after the client stopped waiting. The message did arrive, so the error must say so.
func TestSMTPNoReplyToDataIsInDoubt(t *testing.T) {
	srv := smtptest.Start(t)
	cfg, err := ParseSMTPURL("smtp://" + srv.Addr() + "?tls=none&timeout=300ms")
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, NewSMTP(cfg))
	srv.Stall(time.Second)
	_, err = s.Send(context.Background(), numbered(1))
	var se *SendError
	if !errors.As(err, &se) || !se.InDoubt || !IsInDoubt(err) || se.Permanent {
		t.Fatalf("Send = %v, want a temporary *SendError in doubt", err)
	}
	if _, err := s.Send(context.Background(), numbered(2)); err == nil || IsInDoubt(err) {
		t.Errorf("next Send on the timed-out connection = %v, want a plain temporary error", err)
	}
	srv.Stall(0)
	// A failure before the message went out is not in doubt.
	s = open(t, NewSMTP(cfg))
	srv.DropAfter(0)
	if _, err := s.Send(context.Background(), numbered(3)); err == nil || IsInDoubt(err) {
		t.Errorf("Send over a dropped connection = %v, want a plain temporary error", err)
	}
}

func TestReplyTimeouts(t *testing.T) {
	tests := []struct {
		name             string
		url              string
		command, dataEnd time.Duration
	}{
		{name: "RFC 5321 wait for the end of DATA by default", url: "smtp://mail.example.org", command: 15 * time.Second, dataEnd: 10 * time.Minute},
		{name: "timeout= sets every wait", url: "smtp://mail.example.org?timeout=45s", command: 45 * time.Second, dataEnd: 45 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseSMTPURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if c, d := replyTimeouts(cfg); c != tt.command || d != tt.dataEnd {
				t.Errorf("replyTimeouts = %v, %v; want %v, %v", c, d, tt.command, tt.dataEnd)
			}
		})
	}
}
