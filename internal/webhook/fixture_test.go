package webhook_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"newsletter/internal/delivery"
	"newsletter/internal/mailer"
	"newsletter/internal/metrics"
	"newsletter/internal/newsletter"
	"newsletter/internal/render"
	"newsletter/internal/roster"
	"newsletter/internal/smtptest"
	"newsletter/internal/store"
	"newsletter/internal/token"
	"newsletter/internal/web"
	"newsletter/internal/webhook"
)

var sendTime = time.Date(2026, 5, 4, 5, 0, 0, 0, time.UTC)

// Secrets the fixture configures.
const (
	postmarkUser, postmarkPassword = "postmark", "correct-horse-battery-staple"
	mailgunKey                     = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
	bounceAddress                  = "bounces@technerdo.com"
	topicARN                       = "arn:aws:sns:us-east-1:123456789012:ses-feedback"
)

// ledger is the store as delivery.Ledger, as cmd/newsletter passes it.
type ledger struct{ *store.DB }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// fixture is a list that was sent an issue over SMTP, and serve's handler with every
// provider's webhook configured.
type fixture struct {
	db    *store.DB
	sg    *token.Signer
	issue newsletter.Issue
	subs  []newsletter.Subscriber
	sent  map[string]smtptest.Received // by recipient
	clock *clock
	aws   *fakeAWS
	sgKey *sendgridSigner
	srv   *httptest.Server
}

func setup(t *testing.T, nSubs int) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sg, err := token.NewSigner(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, sg: sg, clock: &clock{t: sendTime}, sent: map[string]smtptest.Received{}}
	f.sendIssue(t, nSubs)

	f.aws = newFakeAWS(t)
	f.sgKey = newSendGridSigner(t)
	rs := roster.New(roster.Options{Store: db, Tokens: sg, Now: f.clock.Now})
	h, err := webhook.New(webhook.Options{
		Applier: rs,
		Rules: roster.BounceRules{MessageIDDomain: "technerdo.com", SignedOnly: true,
			BounceRules: store.BounceRules{HardLimit: 1, SoftLimit: 2, SoftWindow: 30 * 24 * time.Hour}},
		BounceAddress: bounceAddress,
		SES:           &webhook.SES{TopicARN: topicARN},
		Postmark:      &webhook.Postmark{User: postmarkUser, Password: postmarkPassword},
		SendGrid:      &webhook.SendGrid{PublicKey: f.sgKey.public},
		Mailgun:       &webhook.Mailgun{SigningKey: mailgunKey},
		MaxBytes:      64 << 10,
		Client:        f.aws.client(),
		Now:           f.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(db, nil)
	f.srv = httptest.NewServer(web.Handler(h, m))
	t.Cleanup(f.srv.Close)
	return f
}

// sendIssue adds subscribers and sends them an issue through the in-process SMTP server,
// keeping what each received.
func (f *fixture) sendIssue(t *testing.T, n int) {
	t.Helper()
	ctx := context.Background()
	stories := []newsletter.Story{{GUID: "s1", URL: "https://technerdo.com/guides/home-backup/", Title: "How to Set Up a Home Backup That Survives Ransomware",
		Summary: "Three copies, two media, one offline.", Author: "Deniz Aksoy", Section: "Guides", ReadMinutes: 8,
		Published: sendTime.Add(-48 * time.Hour)}}
	if _, err := f.db.SaveStories(ctx, stories, sendTime); err != nil {
		t.Fatal(err)
	}
	saved, err := f.db.UnsentStories(ctx, sendTime, 0)
	if err != nil {
		t.Fatal(err)
	}
	r, err := render.New(render.Publication{Publication: newsletter.Publication{Name: "The Technerdo Weekly",
		WebsiteURL: "https://technerdo.com", PostalAddress: "Technerdo Media, Büyükdere Cd. 185, Istanbul"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	issue := newsletter.Issue{Week: newsletter.Week{Year: 2026, Num: 19}, WindowStart: sendTime.AddDate(0, 0, -7), Cutoff: sendTime,
		Stories: saved, Status: newsletter.IssueDraft, CreatedAt: sendTime}
	email, err := r.Issue(issue)
	if err != nil {
		t.Fatal(err)
	}
	issue.Subject, issue.HTML, issue.Text = email.Subject, email.HTML, email.Text
	if f.issue, err = f.db.SaveIssue(ctx, issue); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		s, _, err := f.db.AddSubscriber(ctx, newsletter.Subscriber{Email: fmt.Sprintf("reader%d@example.com", i), Status: newsletter.StatusActive}, sendTime)
		if err != nil {
			t.Fatal(err)
		}
		f.subs = append(f.subs, s)
	}
	srv := smtptest.Start(t)
	cfg, err := mailer.ParseSMTPURL("smtp://" + srv.Addr() + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	sender := delivery.New(ledger{f.db}, delivery.Single(mailer.NewSMTP(cfg), 1), delivery.Options{
		Identity: delivery.Identity{From: mailer.Address{Name: "The Technerdo Weekly", Email: "weekly@technerdo.com"},
			BounceAddress: bounceAddress, ListName: "The Technerdo Weekly", ListID: "weekly.technerdo.com",
			MessageIDDomain: "technerdo.com", InstallTag: f.sg.InstallTag(), BaseURL: "https://news.technerdo.com"},
		Token: func(s newsletter.Subscriber) string { return f.sg.Make(token.Unsubscribe, s.ID, s.Email) },
		EnvelopeFrom: func(is newsletter.Issue, s newsletter.Subscriber) string {
			return "bounces+" + f.sg.MakeVERP(is.ID, s.ID, s.Email) + "@technerdo.com"
		},
		Now: f.clock.Now,
	})
	rep, err := sender.Send(ctx, f.issue, email)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range srv.Messages() {
		f.sent[m.To[0]] = m
	}
	if len(f.sent) != n {
		t.Fatalf("%d messages received, want %d (report %+v)", len(f.sent), n, rep)
	}
	f.clock.Set(sendTime.Add(2 * time.Hour))
}

// messageID is the Message-ID, without brackets, of the message sent to email.
func (f *fixture) messageID(t *testing.T, email string) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(f.sent[email].Data))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Trim(m.Header.Get("Message-Id"), "<>")
}

// state is everything a report may change: each subscriber's status, suppression and
// consent log, and the bounce counts.
func (f *fixture) state(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, s := range f.subs {
		cur, err := f.db.SubscriberByID(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		supp, _ := f.db.Suppression(ctx, f.sg.Digest(s.Email))
		log, err := f.db.ConsentLog(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s %q %d\n", s.Email, cur.Status, supp, len(log))
	}
	counts, err := f.db.BounceCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "%v\n", counts)
	return b.String()
}

// post sends body to path with headers and returns the status and body of the answer.
func (f *fixture) post(t *testing.T, path string, body []byte, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// want checks what one report did to the subscriber with email.
type want struct {
	status newsletter.SubscriberStatus
	supp   string // suppression reason, "" for none
	source string // the consent log's latest source
	event  string // the consent log's latest event
}

func (f *fixture) check(t *testing.T, email string, w want) {
	t.Helper()
	ctx := context.Background()
	sub, err := f.db.SubscriberByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Status != w.status {
		t.Errorf("%s: status %s, want %s", email, sub.Status, w.status)
	}
	if got, _ := f.db.Suppression(ctx, f.sg.Digest(email)); got != w.supp {
		t.Errorf("%s: suppression %q, want %q", email, got, w.supp)
	}
	log, err := f.db.ConsentLog(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	var sources []string
	found := false
	for _, ev := range log {
		sources = append(sources, ev.Event+"/"+ev.Source)
		if ev.Source == w.source && ev.Event == w.event {
			found = true
		}
	}
	if !found {
		t.Errorf("%s: consent log %v, want an event %s from %s", email, sources, w.event, w.source)
	}
}

// metric returns the value of one sample line of /metrics, -1 when it is absent.
func (f *fixture) metric(t *testing.T, name string) string {
	t.Helper()
	resp, err := http.Get(f.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return "absent"
}

// fakeAWS stands for the SNS endpoints: the handler's client sends every request here,
// whatever its host, and the test sees which URLs were fetched.
type fakeAWS struct {
	key     *rsa.PrivateKey
	certPEM []byte
	srv     *httptest.Server
	mu      sync.Mutex
	fetched []string
}

func newFakeAWS(t *testing.T) *fakeAWS {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore: sendTime.AddDate(-1, 0, 0), NotAfter: sendTime.AddDate(1, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	a := &fakeAWS{key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.fetched = append(a.fetched, r.Header.Get("X-Original-URL"))
		a.mu.Unlock()
		switch {
		case strings.HasPrefix(r.URL.Path, "/redirect/"):
			http.Redirect(w, r, "https://evil.example/cert.pem", http.StatusFound)
		case strings.HasSuffix(r.URL.Path, ".pem"):
			w.Write(a.certPEM)
		case r.URL.Query().Get("Action") == "ConfirmSubscription":
			w.Write([]byte("<ConfirmSubscriptionResponse/>"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// client sends every request to the fake, remembering the URL asked for.
func (a *fakeAWS) client() *http.Client {
	return &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		target, _ := url.Parse(a.srv.URL)
		r2 := r.Clone(r.Context())
		r2.Header.Set("X-Original-URL", r.URL.String())
		r2.URL.Scheme, r2.URL.Host, r2.Host = target.Scheme, target.Host, target.Host
		return http.DefaultTransport.RoundTrip(r2)
	})}
}

func (a *fakeAWS) fetches() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.fetched...)
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
