package mailer

import (
	"bufio"
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// plainRelay is a relay that does not offer PIPELINING, which the smtptest server (go-smtp)
// always offers: the client must send MAIL, RCPT and DATA one at a time. It refuses RCPT
// for addresses containing refuse and records the commands it reads, "<message>" standing
// for a message's content.
type plainRelay struct {
	addr   string
	mu     sync.Mutex
	lines  []string
	refuse string
}

func startPlainRelay(t *testing.T, refuse string) *plainRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &plainRelay{addr: ln.Addr().String(), refuse: refuse}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r.serve(bufio.NewReader(c), c)
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return r
}

func (r *plainRelay) serve(in *bufio.Reader, out net.Conn) {
	say := func(reply string) { out.Write([]byte(reply + "\r\n")) }
	say("220 plain.example ready")
	for {
		line, err := in.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		r.record(line)
		verb, _, _ := strings.Cut(strings.ToUpper(line), " ")
		switch verb {
		case "EHLO":
			say("250-plain.example\r\n250 8BITMIME")
		case "MAIL", "RSET", "NOOP":
			say("250 2.0.0 ok")
		case "RCPT":
			if strings.Contains(line, r.refuse) {
				say("550 5.1.1 no such user")
			} else {
				say("250 2.1.5 ok")
			}
		case "DATA":
			say("354 go ahead")
			for line != ".\r\n" {
				if line, err = in.ReadString('\n'); err != nil {
					return
				}
			}
			r.record("<message>")
			say("250 2.0.0 queued")
		case "QUIT":
			say("221 bye")
			return
		default:
			say("502 5.5.1 not implemented")
		}
	}
}

func (r *plainRelay) record(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, line)
}

// commands returns the commands read since the last call.
func (r *plainRelay) commands() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.lines
	r.lines = nil
	return out
}

// TestSMTPWithoutPipelining: a relay without PIPELINING gets one command at a time; a
// refused recipient stops the exchange before DATA, RSET follows, and the connection
// delivers the next message.
func TestSMTPWithoutPipelining(t *testing.T) {
	relay := startPlainRelay(t, "reader1@")
	host, portText, _ := net.SplitHostPort(relay.addr)
	port, _ := strconv.Atoi(portText)
	s := open(t, NewSMTP(SMTPConfig{Host: host, Port: port, TLS: TLSNone, HELO: "client.example.org", Timeout: 5 * time.Second}))
	ctx := context.Background()

	_, err := s.Send(ctx, numbered(1))
	var se *SendError
	if !errors.As(err, &se) || se.Code != 550 || !se.Permanent {
		t.Fatalf("Send to a refused recipient = %v, want a permanent 550", err)
	}
	want := []string{"EHLO client.example.org", "MAIL FROM:<bounces@news.example.org> BODY=8BITMIME", "RCPT TO:<reader1@example.com>", "RSET"}
	if got := relay.commands(); !slices.Equal(got, want) {
		t.Errorf("refused: the relay read %q, want %q", got, want)
	}

	rcpt, err := s.Send(ctx, numbered(2))
	if err != nil {
		t.Fatalf("next Send on the same connection: %v", err)
	}
	if !strings.Contains(rcpt.Reply, "queued") {
		t.Errorf("receipt %q, want the relay's reply", rcpt.Reply)
	}
	want = []string{"MAIL FROM:<bounces@news.example.org> BODY=8BITMIME", "RCPT TO:<reader2@example.com>", "DATA", "<message>"}
	if got := relay.commands(); !slices.Equal(got, want) {
		t.Errorf("delivered: the relay read %q, want %q", got, want)
	}
}
