package delivery_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"newsletter/internal/delivery"
	"newsletter/internal/mailer"
	"newsletter/internal/newsletter"
	"newsletter/internal/render"
	"newsletter/internal/smtptest"
	"newsletter/internal/store"
	"newsletter/internal/token"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var sendTime = time.Date(2026, 5, 4, 5, 0, 0, 0, time.UTC)

// ledger is the store as delivery.Ledger, as cmd/newsletter passes it.
type ledger struct{ *store.DB }

// clock is a test clock that the test moves between sends.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	db     *store.DB
	issue  newsletter.Issue
	email  render.Email
	subs   []newsletter.Subscriber
	signer *token.Signer
	clock  *clock
}

func setup(t testing.TB, nSubs int) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	stories := []newsletter.Story{
		{GUID: "s1", URL: "https://technerdo.com/ai/openai-microsoft-cloud/", Title: "Microsoft and OpenAI End Exclusive Cloud Partnership: What Changes Next",
			Summary: "Microsoft and OpenAI have ended the exclusivity around their cloud relationship. OpenAI can use more clouds, and the AI infrastructure race gets messier.",
			Author:  "Omer YLD", Section: "AI", ImageURL: "https://images.technerdo.com/openai-cloud.jpg", ImageAlt: "Server racks in a data centre", ReadMinutes: 5,
			Published: time.Date(2026, 4, 28, 6, 0, 0, 0, time.UTC)},
		{GUID: "s2", URL: "https://technerdo.com/guides/home-backup/", Title: "How to Set Up a Home Backup That Survives Ransomware",
			Summary: "Three copies, two media, one offline: a practical weekend plan for families and freelancers.", Author: "Deniz Aksoy", Section: "Guides", ReadMinutes: 8,
			Published: time.Date(2026, 4, 30, 6, 0, 0, 0, time.UTC)},
	}
	if _, err := db.SaveStories(ctx, stories, sendTime); err != nil {
		t.Fatal(err)
	}
	saved, err := db.UnsentStories(ctx, sendTime, 0)
	if err != nil {
		t.Fatal(err)
	}
	r, err := render.New(render.Publication{Publication: newsletter.Publication{
		Name: "The Technerdo Weekly", Tagline: "Analysis worth reading, delivered every Monday.",
		WebsiteURL: "https://technerdo.com", PostalAddress: "Technerdo Media, Büyükdere Cd. 185, 34394 Şişli, Istanbul, Türkiye",
	}}, "")
	if err != nil {
		t.Fatal(err)
	}
	issue := newsletter.Issue{Week: newsletter.Week{Year: 2026, Num: 19}, WindowStart: sendTime.AddDate(0, 0, -7), Cutoff: sendTime, Stories: saved, Status: newsletter.IssueDraft, CreatedAt: sendTime}
	email, err := r.Issue(issue)
	if err != nil {
		t.Fatal(err)
	}
	issue.Subject, issue.Preheader, issue.HTML, issue.Text = email.Subject, email.Preheader, email.HTML, email.Text
	if issue, err = db.SaveIssue(ctx, issue); err != nil {
		t.Fatal(err)
	}
	var subs []newsletter.Subscriber
	for i := range nSubs {
		s, _, err := db.AddSubscriber(ctx, newsletter.Subscriber{Email: fmt.Sprintf("reader%03d@example.com", i), Name: fmt.Sprintf("Reader %d", i), Status: newsletter.StatusActive}, sendTime)
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
	}
	signer, err := token.NewSigner(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, issue: issue, email: email, subs: subs, signer: signer, clock: &clock{t: sendTime}}
}

func (f *fixture) sender(tr mailer.Transport, workers int) *delivery.Sender {
	return f.senderWith(delivery.Single(tr, workers), func(*delivery.Options) {})
}

func (f *fixture) options() delivery.Options {
	return delivery.Options{
		Identity: delivery.Identity{
			From:            mailer.Address{Name: "The Technerdo Weekly", Email: "weekly@technerdo.com"},
			ListName:        "The Technerdo Weekly",
			ListID:          "weekly.technerdo.com",
			MessageIDDomain: "technerdo.com",
			InstallTag:      f.signer.InstallTag(),
			BaseURL:         "https://news.technerdo.com/",
		},
		Token: func(s newsletter.Subscriber) string { return f.signer.Make(token.Unsubscribe, s.ID, s.Email) },
		Now:   f.clock.Now,
	}
}

func (f *fixture) senderWith(relays []delivery.Relay, modify func(*delivery.Options)) *delivery.Sender {
	opt := f.options()
	modify(&opt)
	return delivery.New(ledger{f.db}, relays, opt).WithRelayRest(5 * time.Millisecond)
}

func smtpTransport(t testing.TB, srv *smtptest.Server) mailer.Transport {
	t.Helper()
	cfg, err := mailer.ParseSMTPURL("smtp://" + srv.Addr() + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	return mailer.NewSMTP(cfg)
}

func (f *fixture) counts(t *testing.T) map[newsletter.DeliveryStatus]int {
	t.Helper()
	c, err := f.db.DeliveryCounts(context.Background(), f.issue.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// eachOnce fails unless every recipient in got had exactly one copy.
func eachOnce(t *testing.T, got map[string]int) {
	t.Helper()
	for to, n := range got {
		if n != 1 {
			t.Fatalf("%s got %d copies", to, n)
		}
	}
}

func recipients(msgs []smtptest.Received) map[string]int {
	got := map[string]int{}
	for _, m := range msgs {
		for _, to := range m.To {
			got[to]++
		}
	}
	return got
}

func TestSendOverSMTPReusesConnections(t *testing.T) {
	f := setup(t, 40)
	srv := smtptest.Start(t)
	rep, err := f.sender(smtpTransport(t, srv), 3).Send(context.Background(), f.issue, f.email)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 40 || rep.Enqueued != 40 || !rep.Done {
		t.Fatalf("report %+v", rep)
	}
	got := recipients(srv.Messages())
	if len(got) != 40 {
		t.Fatalf("%d distinct recipients, want 40", len(got))
	}
	eachOnce(t, got)
	if c := srv.Connections(); c < 1 || c > 3 {
		t.Fatalf("%d SMTP connections for 3 workers", c)
	}
	is, err := f.db.IssueByID(context.Background(), f.issue.ID)
	if err != nil || is.Status != newsletter.IssueSent {
		t.Fatalf("issue status %s (%v), want sent", is.Status, err)
	}
	// A second Send is a no-op.
	rep, err = f.sender(smtpTransport(t, srv), 3).Send(context.Background(), is, f.email)
	if err != nil || rep.Sent != 0 || len(srv.Messages()) != 40 {
		t.Fatalf("second send: %+v %v, server has %d", rep, err, len(srv.Messages()))
	}
}

func TestResumeAfterCrash(t *testing.T) {
	f := setup(t, 10)
	ctx := context.Background()
	// A first run: it froze the issue, made the ledger, delivered 3 rows, and died holding 2 more.
	if err := f.db.SetIssueStatus(ctx, f.issue.ID, newsletter.IssueSending, sendTime); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.EnqueueDeliveries(ctx, f.issue.ID, sendTime); err != nil {
		t.Fatal(err)
	}
	done, err := f.db.ClaimDeliveries(ctx, f.issue.ID, 3, sendTime)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []store.Outcome
	for _, d := range done {
		outcomes = append(outcomes, store.Outcome{DeliveryID: d.ID, Status: newsletter.DeliverySent, Reply: "250 ok"})
	}
	if err := f.db.RecordDeliveries(ctx, outcomes, sendTime); err != nil {
		t.Fatal(err)
	}
	inFlight, err := f.db.ClaimDeliveries(ctx, f.issue.ID, 2, sendTime)
	if err != nil {
		t.Fatal(err)
	}
	f.issue.Status = newsletter.IssueSending

	srv := smtptest.Start(t)
	rep, err := f.sender(smtpTransport(t, srv), 2).Send(ctx, f.issue, f.email)
	if err != nil {
		t.Fatal(err)
	}
	if rep.InDoubt != 2 || rep.Sent != 7 || !rep.Done {
		t.Fatalf("report %+v, want 2 resumed and 7 sent", rep)
	}
	got := recipients(srv.Messages())
	for _, d := range done {
		if got[d.Subscriber.Email] != 0 {
			t.Fatalf("%s was recorded as sent before the crash and got it again", d.Subscriber.Email)
		}
	}
	for _, d := range inFlight {
		if got[d.Subscriber.Email] != 1 {
			t.Fatalf("in-flight %s got %d copies, want 1", d.Subscriber.Email, got[d.Subscriber.Email])
		}
	}
}

func TestBouncesAndDeferrals(t *testing.T) {
	f := setup(t, 6)
	srv := smtptest.Start(t)
	srv.FailRcpt(f.subs[1].Email, 550)
	srv.FailRcpt(f.subs[2].Email, 451)
	srv.DropAfter(4) // the connection drops mid-run: a temporary failure, then a new connection
	rep, err := f.sender(smtpTransport(t, srv), 1).Send(context.Background(), f.issue, f.email)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Bounced != 1 || rep.Deferred < 1 || rep.Done {
		t.Fatalf("report %+v", rep)
	}
	sub, _ := f.db.SubscriberByID(context.Background(), f.subs[1].ID)
	if sub.Status != newsletter.StatusBounced {
		t.Fatalf("hard-bounced subscriber is %s", sub.Status)
	}
	// The next run, once the backoff has passed, retries only the temporary failures.
	srv.FailRcpt(f.subs[2].Email, 0)
	f.clock.Add(2 * time.Hour)
	before := len(srv.Messages())
	is, _ := f.db.IssueByID(context.Background(), f.issue.ID)
	rep2, err := f.sender(smtpTransport(t, srv), 1).Send(context.Background(), is, f.email)
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Retried != rep.Deferred || rep2.Sent != rep.Deferred || !rep2.Done {
		t.Fatalf("retry report %+v after %+v", rep2, rep)
	}
	if len(srv.Messages())-before != rep.Deferred {
		t.Fatalf("retry delivered %d, want %d", len(srv.Messages())-before, rep.Deferred)
	}
	if got := recipients(srv.Messages()); got[f.subs[1].Email] != 0 || got[f.subs[2].Email] != 1 {
		t.Fatalf("bounced got %d, deferred got %d", got[f.subs[1].Email], got[f.subs[2].Email])
	}
}

func TestUnsubscribedBeforeTheirTurnGetNothing(t *testing.T) {
	f := setup(t, 5)
	ctx := context.Background()
	if _, err := f.db.EnqueueDeliveries(ctx, f.issue.ID, sendTime); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ApplyTransition(ctx, store.Transition{ID: f.subs[3].ID, Status: newsletter.StatusUnsubscribed}, sendTime); err != nil {
		t.Fatal(err)
	}
	srv := smtptest.Start(t)
	rep, err := f.sender(smtpTransport(t, srv), 2).Send(ctx, f.issue, f.email)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 4 || f.counts(t)[newsletter.DeliverySkipped] != 1 || recipients(srv.Messages())[f.subs[3].Email] != 0 {
		t.Fatalf("report %+v, ledger %v", rep, f.counts(t))
	}
}

// progressLog records Progress calls and cancels a context after stopAfter outcomes.
type progressLog struct {
	mu        sync.Mutex
	starts    []int
	outcomes  int
	stopAfter int
	cancel    context.CancelFunc
}

func (p *progressLog) Start(ready int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.starts = append(p.starts, ready)
}

func (p *progressLog) Outcome(newsletter.DeliveryStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.outcomes++
	if p.stopAfter > 0 && p.outcomes == p.stopAfter {
		p.cancel()
	}
}

// TestSendQueuesTheListInChunks: the ledger is filled a few rows at a time as the workers
// run out, yet everyone gets exactly one copy, progress knows the whole list from the start,
// and the issue is done only once the last chunk is sent.
func TestSendQueuesTheListInChunks(t *testing.T) {
	f := setup(t, 40)
	// Two leave before the send: they are never queued.
	for _, s := range f.subs[10:12] {
		if _, err := f.db.ApplyTransition(context.Background(), store.Transition{ID: s.ID, Status: newsletter.StatusUnsubscribed}, sendTime); err != nil {
			t.Fatal(err)
		}
	}
	srv := smtptest.Start(t)
	prog := &progressLog{}
	sender := f.senderWith(delivery.Single(smtpTransport(t, srv), 3), func(*delivery.Options) {}).WithChunk(7)
	rep, err := sender.WithProgress(prog).Send(context.Background(), f.issue, f.email)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 38 || rep.Enqueued != 38 || !rep.Done || rep.Ledger[newsletter.DeliverySent] != 38 {
		t.Fatalf("report %+v", rep)
	}
	got := recipients(srv.Messages())
	if len(got) != 38 || got[f.subs[10].Email] != 0 || got[f.subs[11].Email] != 0 {
		t.Fatalf("%d distinct recipients, want 38 without the two who left: %v", len(got), got)
	}
	eachOnce(t, got)
	if !slices.Equal(prog.starts, []int{38}) || prog.outcomes != 38 {
		t.Fatalf("progress started %v with %d outcomes; want [38] and 38", prog.starts, prog.outcomes)
	}
}

// TestStopBetweenChunksIsNotDone: a send stopped before the list was all queued leaves the
// issue sending (not sent), and the next Send mails the rest and nobody twice.
func TestStopBetweenChunksIsNotDone(t *testing.T) {
	f := setup(t, 30)
	srv := smtptest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	prog := &progressLog{stopAfter: 5, cancel: cancel}
	chunked := func(workers int) *delivery.Sender {
		return f.senderWith(delivery.Single(smtpTransport(t, srv), workers), func(*delivery.Options) {}).WithChunk(5)
	}
	rep, err := chunked(1).WithProgress(prog).Send(ctx, f.issue, f.email)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Done || rep.Sent < 5 || rep.Sent >= 30 {
		t.Fatalf("stopped send: %+v", rep)
	}
	is, err := f.db.IssueByID(context.Background(), f.issue.ID)
	if err != nil || is.Status != newsletter.IssueSending {
		t.Fatalf("issue status %s (%v), want sending", is.Status, err)
	}
	rep2, err := chunked(2).Send(context.Background(), is, f.email)
	if err != nil || !rep2.Done || rep.Sent+rep2.Sent != 30 {
		t.Fatalf("resumed send: %+v %v (first sent %d)", rep2, err, rep.Sent)
	}
	got := recipients(srv.Messages())
	if len(got) != 30 {
		t.Fatalf("%d distinct recipients, want 30", len(got))
	}
	eachOnce(t, got)
}

func TestServerDownLosesNothing(t *testing.T) {
	f := setup(t, 5)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	cfg, _ := mailer.ParseSMTPURL("smtp://" + addr + "?tls=none")
	cfg.Timeout = 2 * time.Second
	rep, err := f.sender(mailer.NewSMTP(cfg), 2).Send(context.Background(), f.issue, f.email)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 0 || rep.Done || rep.Unreachable == "" {
		t.Fatalf("report %+v", rep)
	}
	// No row was taken (a connection comes before a claim): all five are still owed.
	c := f.counts(t)
	if c[newsletter.DeliveryPending] != c[newsletter.DeliveryPending]+c[newsletter.DeliverySending]+c[newsletter.DeliverySent]+
		c[newsletter.DeliveryDeferred]+c[newsletter.DeliveryFailed]+c[newsletter.DeliveryBounced]+c[newsletter.DeliverySkipped] {
		t.Fatalf("ledger %v: every row should still be pending", c)
	}
	if n, err := f.db.DeliveryBacklog(context.Background(), f.issue.ID); err != nil || n != 5 {
		t.Fatalf("backlog %d, %v; want all 5 still owed", n, err)
	}
}

func TestCancelledRunSendsNothingNew(t *testing.T) {
	f := setup(t, 5)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	srv := smtptest.Start(t)
	_, err := f.sender(smtpTransport(t, srv), 2).Send(ctx, f.issue, f.email)
	if err == nil && len(srv.Messages()) != 0 {
		t.Fatalf("a cancelled run sent %d messages", len(srv.Messages()))
	}
}

func TestOutboxOneFilePerRecipient(t *testing.T) {
	f := setup(t, 3)
	dir := t.TempDir()
	rep, err := f.sender(&mailer.Outbox{Dir: dir}, 2).Send(context.Background(), f.issue, f.email)
	if err != nil || rep.Sent != 3 {
		t.Fatalf("%+v %v", rep, err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 3 {
		t.Fatalf("%d files", len(files))
	}
}

// TestMessageGolden pins the whole message one subscriber gets (fixed clock, boundary and
// Message-ID): headers, both parts, the filled-in unsubscribe link.
func TestMessageGolden(t *testing.T) {
	f := setup(t, 1)
	msg := f.sender(&mailer.Outbox{Dir: t.TempDir()}, 1).Message(f.issue, f.email, f.subs[0])
	msg.Boundary = "technerdo-weekly-boundary"
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "message.golden.eml")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("message differs from %s; run go test ./internal/delivery -update and review the diff", golden)
	}

	parsed, err := mail.ReadMessage(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	tok := f.signer.Make(token.Unsubscribe, f.subs[0].ID, f.subs[0].Email)
	wantHeaders := map[string]string{
		"List-Unsubscribe":      "<https://news.technerdo.com/unsubscribe/" + tok + ">",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"List-Id":               "The Technerdo Weekly <weekly.technerdo.com>",
		"Message-Id":            "<2026-W19." + strconv.FormatInt(f.issue.ID, 10) + "." + strconv.FormatInt(f.subs[0].ID, 10) + "." + strconv.FormatInt(f.issue.CreatedAt.Unix(), 36) + "." + f.signer.InstallTag() + "@technerdo.com>",
		"Date":                  "Mon, 04 May 2026 05:00:00 +0000",
	}
	for k, v := range wantHeaders {
		if got := strings.Join(strings.Fields(parsed.Header.Get(k)), " "); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	body := buf.String()
	if strings.Index(body, "text/plain") > strings.Index(body, "text/html") {
		t.Error("text/plain must come before text/html (RFC 2046: preferred last)")
	}
	// The token and the postal address appear in both parts (quoted-printable may fold them).
	unfolded := strings.ReplaceAll(body, "=\r\n", "")
	if strings.Count(unfolded, tok) < 3 {
		t.Errorf("unsubscribe token appears %d times, want header + text + html", strings.Count(unfolded, tok))
	}
}

// TestMessageIDs: one issue to one subscriber keeps its Message-ID across resends, while
// another install, or the same install after a reset database rebuilt the issue (the same
// week, issue and subscriber numbers, a later creation time), gives a new one.
func TestMessageIDs(t *testing.T) {
	f := setup(t, 1)
	sub := f.subs[0]
	id := func(opt delivery.Options, is newsletter.Issue) string {
		m := delivery.New(ledger{f.db}, delivery.Single(&mailer.Outbox{Dir: t.TempDir()}, 1), opt).Message(is, f.email, sub)
		if err := m.Validate(); err != nil {
			t.Fatal(err)
		}
		return m.MessageID
	}
	first := id(f.options(), f.issue)
	if want := regexp.MustCompile(`^2026-W19\.` + strconv.FormatInt(f.issue.ID, 10) + `\.` + strconv.FormatInt(sub.ID, 10) + `\.[0-9a-z]+\.[a-z2-7]{8}@technerdo\.com$`); !want.MatchString(first) {
		t.Fatalf("Message-ID %q does not match %s", first, want)
	}
	if again := id(f.options(), f.issue); again != first {
		t.Errorf("a resend changed the Message-ID: %q, then %q", first, again)
	}
	other := f.options()
	otherKey, err := token.NewSigner(bytes.Repeat([]byte("o"), 32))
	if err != nil {
		t.Fatal(err)
	}
	other.Identity.InstallTag = otherKey.InstallTag()
	if got := id(other, f.issue); got == first {
		t.Errorf("another install repeats Message-ID %q", got)
	}
	rebuilt := f.issue
	rebuilt.CreatedAt = f.issue.CreatedAt.Add(90 * 24 * time.Hour)
	if got := id(f.options(), rebuilt); got == first {
		t.Errorf("the issue rebuilt after a reset repeats Message-ID %q", got)
	}
}

func TestListIDQuoting(t *testing.T) {
	f := setup(t, 1)
	s := delivery.New(ledger{f.db}, delivery.Single(&mailer.Outbox{Dir: t.TempDir()}, 1), delivery.Options{
		Identity: delivery.Identity{From: mailer.Address{Email: "w@technerdo.com"}, ListName: `Nerds, Inc. "Weekly"`, ListID: "weekly.technerdo.com", MessageIDDomain: "technerdo.com", BaseURL: "https://x.example", UnsubscribeMailto: "unsub@technerdo.com"},
		Token:    func(newsletter.Subscriber) string { return "TOKEN" },
		Now:      func() time.Time { return sendTime },
	})
	m := s.Message(f.issue, f.email, f.subs[0])
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{}
	for _, h := range m.Headers {
		headers[h.Name] = h.Value
	}
	if got := headers["List-Id"]; got != `"Nerds, Inc. \"Weekly\"" <weekly.technerdo.com>` {
		t.Errorf("List-Id = %s", got)
	}
	if got := headers["List-Unsubscribe"]; got != "<https://x.example/unsubscribe/TOKEN>, <mailto:unsub@technerdo.com?subject=unsubscribe+TOKEN>" {
		t.Errorf("List-Unsubscribe = %s", got)
	}

	s = delivery.New(ledger{f.db}, delivery.Single(&mailer.Outbox{Dir: t.TempDir()}, 1), delivery.Options{
		Identity: delivery.Identity{From: mailer.Address{Email: "w@technerdo.com"}, ListName: "Technerdo Haftalık", ListID: "weekly.technerdo.com", MessageIDDomain: "technerdo.com", BaseURL: "https://x.example"},
		Token:    func(newsletter.Subscriber) string { return "TOKEN" },
		Now:      func() time.Time { return sendTime },
	})
	m = s.Message(f.issue, f.email, f.subs[0])
	if err := m.Validate(); err != nil {
		t.Fatalf("non-ASCII list name: %v", err)
	}
	if got := m.Headers[0].Value; got != "=?utf-8?q?Technerdo_Haftal=C4=B1k?= <weekly.technerdo.com>" {
		t.Errorf("List-Id = %s", got)
	}
}

// TestSpamAssassinScore scores a real message with SpamAssassin's shipped rules (no network).
func TestSpamAssassinScore(t *testing.T) {
	sa, err := exec.LookPath("spamassassin")
	if err != nil {
		t.Skip("spamassassin is not installed (apt-get install spamassassin); .ci/run installs it")
	}
	f := setup(t, 1)
	msg := f.sender(&mailer.Outbox{Dir: t.TempDir()}, 1).Message(f.issue, f.email, f.subs[0])
	msg.Date = time.Now() // a stale Date costs points of its own
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sa, "-L", "-t")
	cmd.Stdin = &buf
	out, _ := cmd.Output() // exit status is non-zero for spam; the score is what we check
	m := regexp.MustCompile(`X-Spam-Status: \w+, score=(-?[0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no X-Spam-Status in spamassassin output:\n%s", out)
	}
	score, _ := strconv.ParseFloat(string(m[1]), 64)
	report := out
	if i := bytes.Index(out, []byte("Content analysis details")); i >= 0 {
		report = out[i:]
	}
	t.Logf("SpamAssassin score %.1f\n%s", score, report)
	if score >= 1.0 {
		t.Fatalf("SpamAssassin score %.1f, want below 1.0", score)
	}
}
