package editorial_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"newsletter/internal/delivery"
	"newsletter/internal/editorial"
	"newsletter/internal/mailer"
	"newsletter/internal/newsletter"
	"newsletter/internal/render"
	"newsletter/internal/smtptest"
)

func TestSenderMessages(t *testing.T) {
	srv := smtptest.Start(t)
	cfg, err := mailer.ParseSMTPURL("smtp://" + srv.Addr() + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	sender := delivery.New(nil, delivery.Single(mailer.NewSMTP(cfg), 1), delivery.Options{
		Identity: delivery.Identity{From: mailer.Address{Name: "The Weekly", Email: "weekly@example.org"}, ListName: "The Weekly",
			ListID: "weekly.example.org", MessageIDDomain: "example.org", BaseURL: "https://news.example.org"},
		Token: func(s newsletter.Subscriber) string { return "tok-" + s.Email },
		Now:   func() time.Time { return now },
	})
	m := editorial.SenderMessages{Sender: sender}
	is := newsletter.Issue{ID: 1, Week: newsletter.Week{Year: 2026, Num: 19}, CreatedAt: now}
	email := render.Email{Subject: "The Weekly: a story", HTML: "<p>Hi " + render.PlaceholderEmail + ", <a href=\"" +
		render.PlaceholderUnsubscribeURL + "\">unsubscribe</a></p>", Text: "Unsubscribe: " + render.PlaceholderUnsubscribeURL + "\n"}

	msg, err := m.Sample(context.Background(), is, email)
	if err != nil {
		t.Fatal(err)
	}
	wantURL := "https://news.example.org/unsubscribe/tok-reader@example.com"
	if msg.UnsubscribeURL != wantURL {
		t.Errorf("UnsubscribeURL = %q, want %q", msg.UnsubscribeURL, wantURL)
	}
	if !strings.Contains(msg.Headers, "List-Unsubscribe:") || !strings.Contains(msg.Headers, "<"+wantURL+">") || strings.Contains(msg.Headers, "\r\n\r\n") {
		t.Errorf("headers pane:\n%s", msg.Headers)
	}
	if !strings.Contains(msg.Text, wantURL) || !strings.Contains(msg.HTML, "reader@example.com") {
		t.Errorf("the sample is not personalised for the preview reader:\n%s\n%s", msg.Text, msg.HTML)
	}

	srv.FailRcpt("bad@example.org", 550)
	err = m.SendTest(context.Background(), is, email, []string{"editor@example.org", "bad@example.org"})
	if err == nil || !strings.Contains(err.Error(), "test send to bad@example.org") {
		t.Fatalf("SendTest: %v, want the failed address named", err)
	}
	got := srv.Messages()
	if len(got) != 1 || got[0].To[0] != "editor@example.org" || !strings.Contains(string(got[0].Data), "[TEST]") {
		t.Fatalf("received %d messages: %+v", len(got), got)
	}
}
