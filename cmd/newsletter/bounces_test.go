package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/backend/memory"
	"github.com/emersion/go-imap/server"

	"newsletter/internal/smtptest"
)

// sent is one message as the relay received it.
type sent struct {
	envelopeFrom string
	header       string // the header block, LF line endings
}

// dsn builds a Postfix-style delivery status notification for a message, mailed to to
// (the message's envelope sender, or an address that stands for it).
func dsn(to string, m sent, rcpt, action, status, diag string, date time.Time) string {
	return `Return-Path: <>
Delivered-To: ` + to + `
Date: ` + date.Format(time.RFC1123Z) + `
From: MAILER-DAEMON@relay.example.org (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: ` + to + `
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"
Message-Id: <dsn.` + fmt.Sprint(date.Unix()) + `@relay.example.org>

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<` + rcpt + `>: ` + diag + `

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.org
X-Postfix-Sender: rfc822; ` + to + `
Arrival-Date: ` + date.Add(-time.Hour).Format(time.RFC1123Z) + `

Final-Recipient: rfc822; ` + rcpt + `
Action: ` + action + `
Status: ` + status + `
Diagnostic-Code: smtp; ` + diag + `

--BOUNDARY
Content-Type: text/rfc822-headers

` + m.header + `
--BOUNDARY--
`
}

// arf builds a Yahoo-style complaint about a message, the recipient redacted.
func arf(m sent, rcpt string, date time.Time) string {
	h := strings.ReplaceAll(m.header, rcpt, "redacted@yahoo.example")
	return `Return-Path: <feedback@arf.yahoo.example>
Delivered-To: fbl@example.org
From: Yahoo! Mail AntiSpam Feedback <feedback@arf.yahoo.example>
To: fbl@example.org
Subject: FW: complaint
Date: ` + date.Format(time.RFC1123Z) + `
Message-ID: <arf.` + fmt.Sprint(date.Unix()) + `@arf.yahoo.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"

--ARF
Content-Type: text/plain

This is an email abuse report.

--ARF
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Yahoo!-Mail-Feedback/2.0
Version: 0.1
Original-Rcpt-To: <redacted@yahoo.example>
Arrival-Date: ` + date.Add(-time.Hour).Format(time.RFC1123Z) + `

--ARF
Content-Type: message/rfc822

` + h + `
[redacted body]
From the desk of a reader: a body line an mbox writer escapes.

--ARF--
`
}

// mboxOf joins messages into an mbox, escaping body lines that start with "From ".
func mboxOf(msgs ...string) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString("From MAILER-DAEMON Tue May 19 10:00:00 2026\n")
		for line := range strings.SplitSeq(strings.TrimRight(m, "\n"), "\n") {
			if strings.HasPrefix(strings.TrimLeft(line, ">"), "From ") {
				line = ">" + line
			}
			b.WriteString(line + "\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func (c *cli) bouncesStdin(stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	var out, errb bytes.Buffer
	e := env{stdin: stdin, stdout: &out, stderr: &errb, getenv: func(k string) string { return c.env[k] }, now: func() time.Time { return c.now }}
	code = exitCode(&errb, bouncesProcess(context.Background(), e, args))
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, path, s string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// sendWithVERP imports the sample list and sends 2026-W19 over SMTP (the config turns
// VERP on), checking each envelope sender; it returns the messages by recipient and the relay.
func sendWithVERP(t *testing.T, c *cli) (map[string]sent, *smtptest.Server) {
	t.Helper()
	c.importSample()
	srv := smtptest.Start(t)
	c.env["NEWSLETTER_SMTP_URL"] = "smtp://" + srv.Addr() + "?tls=none"
	c.mustRun("run", "--week", "2026-W19")
	msgs := map[string]sent{}
	for _, m := range srv.Messages() {
		head, _, _ := strings.Cut(strings.ReplaceAll(string(m.Data), "\r\n", "\n"), "\n\n")
		if !strings.HasPrefix(m.From, "bounces+") || !strings.HasSuffix(m.From, "@example.org") {
			t.Fatalf("MAIL FROM %s, want bounces+TOKEN@example.org", m.From)
		}
		if !strings.Contains(head, "From: \"The Technerdo Weekly\" <weekly@example.org>") {
			t.Fatalf("From header changed:\n%s", head)
		}
		msgs[m.To[0]] = sent{envelopeFrom: m.From, header: head + "\n"}
	}
	if len(msgs) != 5 {
		t.Fatalf("%d messages sent, want 5", len(msgs))
	}
	return msgs, srv
}

// verpSender is the sender section of the tests that send with VERP and read the reports back.
const verpSender = `
sender:
  from_address: weekly@example.org
  bounce_address: bounces@example.org
  message_id_domain: example.org
  list_id: weekly.example.org
  unsubscribe_mailto: unsubscribe@example.org
  verp: true
`

// TestBouncesProcessEndToEnd sends an issue over SMTP with VERP on, then feeds back the
// reports a receiving MTA would return for the messages actually sent: by file, by
// standard input, in an mbox and in a Maildir.
func TestBouncesProcessEndToEnd(t *testing.T) {
	c := newCLI(t)
	c.setConfig(verpSender + `editorial:
  editors_email: editors@example.org
bounces:
  soft_limit: 2
  soft_window: 720h
  max_message_bytes: 1048576
`)
	msgs, srv := sendWithVERP(t, c)
	reported := c.now.Add(-2 * time.Hour)
	dir := t.TempDir()

	// A hard bounce by file, found by its VERP token.
	ada := msgs["ada.lovelace@example.com"]
	hard := writeFile(t, filepath.Join(dir, "hard.eml"),
		dsn(ada.envelopeFrom, ada, "ada.lovelace@example.com", "failed", "5.1.1", "550 5.1.1 user unknown", reported))
	out := c.mustRun("bounces", "process", hard)
	if !strings.Contains(out, "hard bounce 5.1.1 for ada.lovelace@example.com (by verp, issue 2026-W19): suppressed (bounced), status bounced") {
		t.Fatalf("hard bounce:\n%s", out)
	}

	// A forged VERP token on standard input: a clear line, nothing changed.
	grace := msgs["grace.hopper@example.org"]
	forged := strings.Replace(grace.envelopeFrom, "bounces+", "bounces+a", 1)
	code, out, errOut := c.bouncesStdin(strings.NewReader(dsn(forged, grace, "grace.hopper@example.org", "failed", "5.1.1", "550 5.1.1 user unknown", reported)))
	if code != 0 || !strings.Contains(out, "stdin: hard bounce 5.1.1: VERP token is") || !strings.Contains(out, "nothing changed") {
		t.Fatalf("forged token: exit %d\n%s%s", code, out, errOut)
	}

	// An mbox: a complaint (recipient redacted) found by the returned Message-ID, a delay
	// warning by VERP, a hard bounce mailed to the plain bounce address found by the
	// Message-ID.
	linus, margaret, tim := msgs["linus@example.net"], msgs["margaret.hamilton@example.com"], msgs["tim@example.net"]
	mbox := writeFile(t, filepath.Join(dir, "bounces.mbox"), mboxOf(
		arf(linus, "linus@example.net", reported),
		dsn(margaret.envelopeFrom, margaret, "margaret.hamilton@example.com", "delayed", "4.2.2", "452 4.2.2 mailbox full", reported),
		dsn("bounces@example.org", tim, "tim@example.net", "failed", "5.2.1", "550 5.2.1 account disabled", reported),
	))
	out = c.mustRun("bounces", "process", mbox)
	for _, want := range []string{
		"bounces.mbox#1: complaint for linus@example.net (by list-unsubscribe, issue 2026-W19): suppressed (complained), status unsubscribed",
		"  Issue 2026-W19: 1 complaint(s) of 5 delivered messages (20.00%), over 0.1%. Told the editors (editors@example.org).",
		"bounces.mbox#2: soft bounce 4.2.2 for margaret.hamilton@example.com (by verp, issue 2026-W19): 1 of 2 soft bounces",
		"bounces.mbox#3: hard bounce 5.2.1 for tim@example.net (by list-unsubscribe, issue 2026-W19): suppressed (bounced), status bounced",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("mbox output lacks %q:\n%s", want, out)
		}
	}

	// The same mbox again (an operator re-running it, a crash mid-batch): every report is
	// known, nothing counts twice.
	out = c.mustRun("bounces", "process", mbox)
	if n := strings.Count(out, "already recorded; nothing changed"); n != 3 || strings.Contains(out, "Told the editors") {
		t.Fatalf("second pass over the mbox:\n%s", out)
	}

	// A mail to the List-Unsubscribe mailto: address of grace's message, as a mail client
	// writes it from the URL; then the same with the token altered.
	mailtoMsg := func(m sent, from string, alter bool) string {
		parsed, err := mail.ReadMessage(strings.NewReader(m.header + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		_, rest, _ := strings.Cut(parsed.Header.Get("List-Unsubscribe"), "<mailto:")
		u, err := url.Parse("mailto:" + strings.TrimSuffix(rest, ">"))
		if err != nil {
			t.Fatal(err)
		}
		subject := u.Query().Get("subject")
		if alter {
			i := len(subject) - 10
			c := byte('A')
			if subject[i] == 'A' {
				c = 'B'
			}
			subject = subject[:i] + string(c) + subject[i+1:]
		}
		return "From: " + from + "\nTo: " + u.Opaque + "\nSubject: " + subject + "\nDate: " + reported.Format(time.RFC1123Z) + "\n\nunsubscribe\n"
	}
	code, out, errOut = c.bouncesStdin(strings.NewReader(mailtoMsg(grace, "grace.hopper@example.org", true)))
	if code != 0 || !strings.Contains(out, "stdin: mailto unsubscribe: the unsubscribe token is forged") {
		t.Fatalf("forged mailto: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = c.bouncesStdin(strings.NewReader(mailtoMsg(grace, "grace.hopper@example.org", false)))
	if code != 0 || !strings.Contains(out, "stdin: mailto unsubscribe for grace.hopper@example.org (by list-unsubscribe): unsubscribed") {
		t.Fatalf("mailto: exit %d\n%s%s", code, out, errOut)
	}

	// A Maildir: the same delay warning again (counted once), an auto-reply, a file that is
	// not mail (exit 1, the rest still handled), and a complaint from grace, who has left
	// by mailto: already (the complaint's reason replaces hers).
	md := filepath.Join(dir, "Maildir")
	writeFile(t, filepath.Join(md, "new", "1.a"), dsn(margaret.envelopeFrom, margaret, "margaret.hamilton@example.com", "delayed", "4.2.2", "452 4.2.2 mailbox full", reported.Add(time.Hour)))
	writeFile(t, filepath.Join(md, "new", "2.b"), "From: Ada <ada.lovelace@example.com>\nSubject: Out of office\nDate: "+reported.Format(time.RFC1123Z)+"\n\nAway.\n")
	writeFile(t, filepath.Join(md, "cur", "3.c:2,S"), "\x00\x01 not mail at all")
	writeFile(t, filepath.Join(md, "cur", "4.d:2,S"), arf(grace, "grace.hopper@example.org", reported))
	if err := os.MkdirAll(filepath.Join(md, "tmp"), 0o750); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = c.run("bounces", "process", md)
	if code != 1 || !strings.Contains(errOut, "1 of 4 message(s) could not be read") ||
		!strings.Contains(out, "4.d:2,S: complaint for grace.hopper@example.org (by list-unsubscribe, issue 2026-W19): suppressed (complained)") ||
		!strings.Contains(out, "already recorded; nothing changed") ||
		!strings.Contains(out, "2.b: irrelevant: not a bounce or complaint") ||
		!strings.Contains(out, "3.c:2,S: cannot read:") {
		t.Fatalf("Maildir: exit %d\n%s%s", code, out, errOut)
	}

	// The editors were told once, by the complaint that crossed 0.1%; grace's later one
	// (2 of 5) tells nobody.
	var notice *smtptest.Received
	for _, m := range srv.Messages() {
		if m.To[0] == "editors@example.org" {
			if notice != nil {
				t.Fatal("the editors were told twice")
			}
			notice = &m
		}
	}
	if notice == nil || !strings.Contains(string(notice.Data), "Subject: Complaints over 0.1%: issue 2026-W19") ||
		!strings.Contains(string(notice.Data), "newsletter status --issue 2026-W19") {
		t.Fatalf("no complaint notice to the editors: %+v", notice)
	}

	// Too large on standard input: exit 1, nothing changed.
	big := "From: MAILER-DAEMON@relay.example.org\nSubject: Undelivered Mail\n\n" + strings.Repeat("550 5.1.1 grace.hopper@example.org\n", 60000)
	code, out, errOut = c.bouncesStdin(strings.NewReader(big))
	if code != 1 || !strings.Contains(out, "stdin: cannot read: bounce: message too large: over 1048576 bytes; nothing changed") {
		t.Fatalf("too large: exit %d\n%s%s", code, out, errOut)
	}
	// Unreadable input: a missing file.
	if code, _, errOut := c.run("bounces", "process", filepath.Join(dir, "missing.eml")); code != 1 || !strings.Contains(errOut, "no such file") {
		t.Fatalf("missing file: exit %d %s", code, errOut)
	}

	// The list afterwards.
	list := c.mustRun("subscribers", "list")
	for _, want := range []string{"ada.lovelace@example.com", "tim@example.net"} {
		if !strings.Contains(c.mustRun("subscribers", "list", "--status", "bounced"), want) {
			t.Errorf("%s is not bounced:\n%s", want, list)
		}
	}
	for addr, want := range map[string][]string{
		"ada.lovelace@example.com":      {"Status: bounced", "Suppressed: bounced", "bounced dsn", "5.1.1 550 5.1.1 user unknown (1 of 1)"},
		"linus@example.net":             {"Status: unsubscribed", "Suppressed: complained", "complained arf", "feedback-type abuse (reported by Yahoo!-Mail-Feedback/2.0)"},
		"margaret.hamilton@example.com": {"Status: active", "Suppressed: no", "soft-bounce dsn", "4.2.2 452 4.2.2 mailbox full (1 of 2)"},
		"grace.hopper@example.org":      {"Status: unsubscribed", "Suppressed: complained", "left mailto", "mailto unsubscribe from grace.hopper@example.org", "complained arf"},
		"tim@example.net":               {"Status: bounced", "Suppressed: bounced"},
	} {
		// Columns are aligned with runs of spaces: compare words.
		show := strings.Join(strings.Fields(c.mustRun("subscribers", "show", addr)), " ")
		for _, w := range want {
			if !strings.Contains(show, w) {
				t.Errorf("subscribers show %s lacks %q:\n%s", addr, w, show)
			}
		}
		if addr == "ada.lovelace@example.com" && !strings.Contains(show, reported.UTC().Format(time.RFC3339)+" bounced") {
			t.Errorf("the consent event is not dated by the report (%s):\n%s", reported.UTC().Format(time.RFC3339), show)
		}
	}
	if strings.Contains(c.mustRun("subscribers", "show", "grace.hopper@example.org"), "dsn") {
		t.Error("the forged report reached grace's consent log")
	}
	// status --issue counts what came back after the send: ada (by file) and tim (mbox)
	// hard, margaret soft, linus's and grace's complaints: 2 of 5 delivered.
	status := c.mustRun("status", "--issue", "2026-W19")
	for _, want := range []string{
		"after the send: 2 hard bounce(s), 1 soft bounce(s), 2 complaint(s) (40.00% of 5 delivered)",
		"COMPLAINTS over 0.1% of delivered messages",
	} {
		if !strings.Contains(status, want) {
			t.Errorf("status lacks %q:\n%s", want, status)
		}
	}
	// A complaint is never mailed again, re-import included.
	out = c.mustRun("subscribers", "import", "--resubscribe", filepath.Join("..", "..", "data", "sample-subscribers.csv"))
	if show := c.mustRun("subscribers", "show", "linus@example.net"); !strings.Contains(show, "Status:      unsubscribed") {
		t.Fatalf("import --resubscribe brought back a complaint:\n%s\n%s", out, show)
	}
}

// TestBouncesPollFromIMAP: reports delivered to an IMAP mailbox (a real IMAP server in
// process) are read by `bounces poll` and by serve's loop, each once, and flagged seen.
func TestBouncesPollFromIMAP(t *testing.T) {
	c := newCLI(t)
	c.setConfig(verpSender)
	msgs, _ := sendWithVERP(t, c)
	reported := c.now.Add(-2 * time.Hour)
	ada, grace := msgs["ada.lovelace@example.com"], msgs["grace.hopper@example.org"]

	be := memory.New()
	user, err := be.Login(nil, "username", "password")
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := user.GetMailbox("INBOX")
	if err != nil {
		t.Fatal(err)
	}
	deliver := func(report string) {
		t.Helper()
		if err := inbox.CreateMessage(nil, time.Now(), bytes.NewBufferString(strings.ReplaceAll(report, "\n", "\r\n"))); err != nil {
			t.Fatal(err)
		}
	}
	deliver(dsn(ada.envelopeFrom, ada, "ada.lovelace@example.com", "failed", "5.1.1", "550 5.1.1 user unknown", reported))
	imapSrv := server.New(be)
	imapSrv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go imapSrv.Serve(ln)
	t.Cleanup(func() { imapSrv.Close() })
	c.setConfig("bounces:\n  mailbox: imap://username:password@" + ln.Addr().String() + "/INBOX\n")

	out := c.mustRun("bounces", "poll")
	if !strings.Contains(out, "INBOX#") || !strings.Contains(out, "hard bounce 5.1.1 for ada.lovelace@example.com (by verp, issue 2026-W19)") ||
		!strings.Contains(out, "1 message(s) read") {
		t.Fatalf("first poll:\n%s", out)
	}
	if out := c.mustRun("bounces", "poll"); !strings.Contains(out, "0 message(s) read") {
		t.Fatalf("second poll read again:\n%s", out)
	}

	// serve polls at start: a complaint delivered now is applied without a command.
	deliver(arf(grace, "redacted@example.net", reported))
	c.serve()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if show := c.mustRun("subscribers", "show", "grace.hopper@example.org"); strings.Contains(show, "complained") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not apply the complaint from the mailbox:\n%s", c.mustRun("subscribers", "show", "grace.hopper@example.org"))
		}
	}
}

// TestBouncesProcessTempFail: while another process holds the database's write lock past
// the busy timeout, a report on standard input (an MTA's pipe) and an mbox both exit 75
// with nothing applied; run again once the lock is gone, each report counts once. A
// database that cannot be opened is 75 too; a configuration error stays 2.
func TestBouncesProcessTempFail(t *testing.T) {
	c := newCLI(t)
	c.setConfig(verpSender)
	msgs, _ := sendWithVERP(t, c)
	reported := c.now.Add(-2 * time.Hour)
	ada, tim := msgs["ada.lovelace@example.com"], msgs["tim@example.net"]
	adaReport := dsn(ada.envelopeFrom, ada, "ada.lovelace@example.com", "failed", "5.1.1", "550 5.1.1 user unknown", reported)
	mbox := writeFile(t, filepath.Join(t.TempDir(), "bounces.mbox"), mboxOf(adaReport,
		dsn(tim.envelopeFrom, tim, "tim@example.net", "failed", "5.2.1", "550 5.2.1 account disabled", reported)))
	show := func(addr string) string {
		return strings.Join(strings.Fields(c.mustRun("subscribers", "show", addr)), " ")
	}

	// Another process's write transaction, held for longer than the 5 s busy timeout.
	ctx := context.Background()
	lockDB, err := sql.Open("sqlite3", filepath.Join(c.dir, "nl.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lockDB.Close()
	conn, err := lockDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	// Two deliveries at once, as two pipe transports would run them: both wait, both give up.
	type result struct {
		code        int
		out, errOut string
	}
	stdinDone, mboxDone := make(chan result, 1), make(chan result, 1)
	go func() {
		var r result
		r.code, r.out, r.errOut = c.bouncesStdin(strings.NewReader(adaReport))
		stdinDone <- r
	}()
	go func() {
		var r result
		r.code, r.out, r.errOut = c.run("bounces", "process", mbox)
		mboxDone <- r
	}()
	stdin, mb := <-stdinDone, <-mboxDone
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		t.Fatal(err)
	}
	t.Logf("while locked: stdin exit %d, %s; mbox exit %d, %s", stdin.code, strings.TrimSpace(stdin.errOut), mb.code, strings.TrimSpace(mb.errOut))
	if stdin.code != exitTempFail || !strings.HasPrefix(stdin.errOut, "newsletter: bounces process: stdin: ") ||
		!strings.Contains(stdin.errOut, "database busy") || stdin.out != "" {
		t.Fatalf("stdin while locked: exit %d\nstdout:\n%s\nstderr:\n%s", stdin.code, stdin.out, stdin.errOut)
	}
	if mb.code != exitTempFail || !strings.Contains(mb.errOut, "bounces.mbox#1: ") ||
		!strings.Contains(mb.errOut, "database busy") || strings.Contains(mb.out, "#2") {
		t.Fatalf("mbox while locked: exit %d\nstdout:\n%s\nstderr:\n%s", mb.code, mb.out, mb.errOut)
	}
	for _, addr := range []string{"ada.lovelace@example.com", "tim@example.net"} {
		if s := show(addr); !strings.Contains(s, "Status: active") || strings.Contains(s, "bounced dsn") {
			t.Fatalf("a report was applied while the database was locked:\n%s", s)
		}
	}

	// The MTA retries: stdin applies; the mbox again finds its first report known.
	code, out, errOut := c.bouncesStdin(strings.NewReader(adaReport))
	if code != 0 || !strings.Contains(out, "stdin: hard bounce 5.1.1 for ada.lovelace@example.com (by verp, issue 2026-W19): suppressed (bounced)") {
		t.Fatalf("stdin retried: exit %d\n%s%s", code, out, errOut)
	}
	out = c.mustRun("bounces", "process", mbox)
	if !strings.Contains(out, "bounces.mbox#1: hard bounce 5.1.1 for ada.lovelace@example.com") ||
		!strings.Contains(out, "already recorded; nothing changed") ||
		!strings.Contains(out, "bounces.mbox#2: hard bounce 5.2.1 for tim@example.net (by verp, issue 2026-W19): suppressed (bounced)") {
		t.Fatalf("mbox retried:\n%s", out)
	}
	if s := show("ada.lovelace@example.com"); !strings.Contains(s, "5.1.1 550 5.1.1 user unknown (1 of 1)") || strings.Count(s, "bounced dsn") != 1 {
		t.Fatalf("ada's bounce did not count once:\n%s", s)
	}

	// A database that cannot be opened (its directory is a file): 75, the MTA keeps the message.
	notDir := writeFile(t, filepath.Join(t.TempDir(), "file"), "")
	c.env["NEWSLETTER_DATABASE"] = filepath.Join(notDir, "nl.db")
	code, _, errOut = c.bouncesStdin(strings.NewReader(adaReport))
	if code != exitTempFail || !strings.Contains(errOut, "not a directory") {
		t.Fatalf("database cannot be opened: exit %d %s", code, errOut)
	}
	delete(c.env, "NEWSLETTER_DATABASE")
	// A configuration error is the operator's to fix at once: exit 2 as before.
	c.env["NEWSLETTER_CONFIG"] = writeFile(t, filepath.Join(t.TempDir(), "bad.yaml"), "bounces: [\n")
	if code, _, errOut := c.bouncesStdin(strings.NewReader(adaReport)); code != exitUsage {
		t.Fatalf("bad configuration: exit %d %s", code, errOut)
	}
}
