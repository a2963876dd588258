package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"newsletter/internal/metrics"
	"newsletter/internal/schedule"
	"newsletter/internal/smtptest"
)

// deliveriesSent scrapes newsletter_deliveries_total{outcome="sent"}.
func deliveriesSent(t *testing.T, url string) int {
	t.Helper()
	page := httpGet(t, url)
	m := regexp.MustCompile(`(?m)^newsletter_deliveries_total\{outcome="sent",relay="[^"]*"\} (\d+)$`).FindStringSubmatch(page)
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The daemon's send slot, on the real parts, with the relay paused after two messages: the
// deliveries counter shows them while the send is still going, and the whole send once
// it is over (counted once, not again at the end).
func TestDaemonCountsDeliveriesAsTheyGo(t *testing.T) {
	c := newCLI(t)
	c.importSample()
	srv := smtptest.Start(t)
	c.env["NEWSLETTER_SMTP_URL"] = "smtp://" + srv.Addr() + "?tls=none"
	c.env["NEWSLETTER_REQUIRE_APPROVAL"] = "false"
	var out, errOut bytes.Buffer
	a, err := openApp(context.Background(), env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return c.env[k] }, now: func() time.Time { return c.now }}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	m := metrics.New(nil, nil)
	mux := http.NewServeMux()
	m.Register(mux)
	scrape := httptest.NewServer(mux)
	defer scrape.Close()
	jobs, err := a.daemonJobs(m)
	if err != nil {
		t.Fatal(err)
	}

	release := srv.PauseAfter(2)
	type result struct {
		out schedule.Outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		o, err := jobs.Send(context.Background(), schedule.Slot{Kind: schedule.Send, At: sampleMonday})
		done <- result{o, err}
	}()
	for deadline := time.Now().Add(30 * time.Second); deliveriesSent(t, scrape.URL+"/metrics") < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			release()
			t.Fatalf("the counter shows %d deliveries while the relay holds the third; want 2", deliveriesSent(t, scrape.URL+"/metrics"))
		}
	}
	select {
	case r := <-done:
		t.Fatalf("the send ended while the relay was paused: %+v", r)
	default:
	}
	release()
	r := <-done
	if r.err != nil || r.out.Status != "done" {
		t.Fatalf("send: %+v %v", r.out, r.err)
	}
	if got, want := deliveriesSent(t, scrape.URL+"/metrics"), len(srv.Messages()); got != want || want < 3 {
		t.Errorf("after the send the counter shows %d sent, the relay got %d", got, want)
	}
}
