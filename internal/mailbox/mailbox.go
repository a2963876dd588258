// Package mailbox hands the messages of a mailbox to a function: an mbox file, a Maildir,
// or over IMAP every message not yet seen, which is then flagged seen. A crash between the
// two hands the message over again on the next poll, so nothing is lost; the function must
// count a message it already handled once (the bounce store knows a report by its own
// Message-ID).
package mailbox

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-imap"
	"github.com/emersion/go-imap/client"
)

// imapTimeout bounds connecting and each command.
const imapTimeout = time.Minute

// Options say which mailbox to read.
type Options struct {
	// URL is imaps://USER:PASSWORD@HOST[:PORT]/MAILBOX (TLS, port 993 by default), or
	// imap://... for a server on this machine without TLS (port 143). MAILBOX defaults to
	// INBOX.
	URL string
	// MaxBytes caps one message; a bigger one is handed over cut at the cap, which the
	// reader then refuses as too large. 0: 10 MiB.
	MaxBytes int64
}

// Handle is given each unseen message; name says which one, for output. An error stops
// the poll and leaves the message unseen.
type Handle func(ctx context.Context, name string, r io.Reader) error

// target is a parsed mailbox URL.
type target struct {
	tls        bool
	addr       string
	user, pass string
	mailbox    string
}

func parseURL(raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, fmt.Errorf("mailbox URL: %w", err)
	}
	t := target{mailbox: strings.TrimPrefix(u.Path, "/")}
	switch u.Scheme {
	case "imaps":
		t.tls = true
	case "imap":
	default:
		return target{}, fmt.Errorf("mailbox URL: scheme %q: want imaps (or imap for a local server)", u.Scheme)
	}
	if u.Hostname() == "" {
		return target{}, errors.New("mailbox URL: no host")
	}
	if !t.tls && !loopback(u.Hostname()) {
		// Without TLS the login sends the password in clear.
		return target{}, fmt.Errorf("mailbox URL: imap:// to %s would send the password in clear: use imaps://, or imap:// only for a server on this machine", u.Hostname())
	}
	port := "143"
	if t.tls {
		port = "993"
	}
	t.addr = net.JoinHostPort(u.Hostname(), cmp.Or(u.Port(), port))
	t.user = u.User.Username()
	t.pass, _ = u.User.Password()
	if t.user == "" {
		return target{}, errors.New("mailbox URL: no user name")
	}
	t.mailbox = cmp.Or(t.mailbox, "INBOX")
	return t, nil
}

// loopback reports whether host names this machine.
func loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

// Check reports what is wrong with a mailbox URL, so that a bad one fails at start.
func Check(raw string) error {
	_, err := parseURL(raw)
	return err
}

// Poll hands every unseen message of the mailbox to handle, oldest first, flagging each
// seen once handled, and says how many it handled.
func Poll(ctx context.Context, opt Options, handle Handle) (int, error) {
	t, err := parseURL(opt.URL)
	if err != nil {
		return 0, err
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = 10 << 20
	}
	dialer := &net.Dialer{Timeout: imapTimeout}
	var c *client.Client
	if t.tls {
		c, err = client.DialWithDialerTLS(dialer, t.addr, &tls.Config{})
	} else {
		c, err = client.DialWithDialer(dialer, t.addr)
	}
	if err != nil {
		return 0, fmt.Errorf("mailbox %s: %w", t.addr, err)
	}
	c.Timeout = imapTimeout
	defer c.Logout()
	if err := c.Login(t.user, t.pass); err != nil {
		return 0, fmt.Errorf("mailbox %s: login as %s: %w", t.addr, t.user, err)
	}
	if _, err := c.Select(t.mailbox, false); err != nil {
		return 0, fmt.Errorf("mailbox %s: select %s: %w", t.addr, t.mailbox, err)
	}
	criteria := imap.NewSearchCriteria()
	criteria.WithoutFlags = []string{imap.SeenFlag}
	uids, err := c.UidSearch(criteria)
	if err != nil {
		return 0, fmt.Errorf("mailbox %s: search %s: %w", t.addr, t.mailbox, err)
	}
	handled := 0
	for _, uid := range uids {
		if err := ctx.Err(); err != nil {
			return handled, err
		}
		set := new(imap.SeqSet)
		set.AddNum(uid)
		raw, err := fetch(c, set, opt.MaxBytes)
		if err != nil {
			return handled, fmt.Errorf("mailbox %s: message %d: %w", t.mailbox, uid, err)
		}
		if err := handle(ctx, fmt.Sprintf("%s#%d", t.mailbox, uid), bytes.NewReader(raw)); err != nil {
			return handled, err
		}
		if err := c.UidStore(set, imap.FormatFlagsOp(imap.AddFlags, true), []any{imap.SeenFlag}, nil); err != nil {
			return handled, fmt.Errorf("mailbox %s: flag message %d seen: %w", t.mailbox, uid, err)
		}
		handled++
	}
	return handled, nil
}

// fetch reads the message of set (one UID) whole, without marking it seen, at most max
// bytes (and one more, so that a reader with the same cap sees it is too large).
func fetch(c *client.Client, set *imap.SeqSet, max int64) ([]byte, error) {
	section := &imap.BodySectionName{Peek: true}
	ch := make(chan *imap.Message, 1)
	done := make(chan error, 1)
	go func() { done <- c.UidFetch(set, []imap.FetchItem{section.FetchItem()}, ch) }()
	var raw []byte
	for msg := range ch {
		if body := msg.GetBody(section); body != nil {
			b, err := io.ReadAll(io.LimitReader(body, max+1))
			if err != nil {
				return nil, err
			}
			raw = b
		}
	}
	if err := <-done; err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, errors.New("the server sent no body")
	}
	return raw, nil
}
