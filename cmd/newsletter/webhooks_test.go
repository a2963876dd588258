package main

import (
	"bytes"
	"context"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeTakesPostmarkWebhook sends the sample issue, then posts a Postmark hard bounce
// for one of its recipients to serve, configured from the environment.
func TestServeTakesPostmarkWebhook(t *testing.T) {
	c := newCLI(t)
	c.importSample()
	c.mustRun("run", "--week", "2026-W19")
	raw, _ := os.ReadFile(emlFiles(t, filepath.Join(c.dir, "outbox"))[0])
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	to, _ := mail.ParseAddress(msg.Header.Get("To"))

	c.env["NEWSLETTER_HTTP_ADDR"] = "127.0.0.1:0"
	c.env["NEWSLETTER_WEBHOOK_POSTMARK_USER"] = "postmark"
	c.env["NEWSLETTER_WEBHOOK_POSTMARK_PASSWORD"] = "a-long-random-password"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"serve", "--no-scheduler"}, &out, &out, func(k string) string { return c.env[k] }, time.Now)
	}()
	var base string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := regexp.MustCompile(`Listening on (http://\S+)`).FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		t.Fatalf("serve did not start:\n%s", out.String())
	}
	post := func(path, user, pass, body string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	bounce := `{"RecordType":"Bounce","ID":4323372036854775807,"Type":"HardBounce","TypeCode":1,"Name":"Hard bounce",` +
		`"MessageID":"883953f4-6105-42a2-a16a-77a8eac79483","ServerID":23,"MessageStream":"broadcast",` +
		`"Description":"The server was unable to deliver your message (ex: unknown user, mailbox not found).",` +
		`"Details":"smtp;550 5.1.1 The email account that you tried to reach does not exist.","Email":"` + to.Address + `",` +
		`"From":"weekly@example.org","BouncedAt":"2026-05-11T09:28:10Z","DumpAvailable":false,"Inactive":true,"CanActivate":true,"Subject":"The Technerdo Weekly"}`
	if code := post("/webhooks/postmark", "postmark", "guess", bounce); code != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", code)
	}
	if code := post("/webhooks/ses", "", "", "{}"); code != http.StatusNotFound {
		t.Errorf("SES, not configured: %d, want 404", code)
	}
	if code := post("/webhooks/postmark", "postmark", "a-long-random-password", bounce); code != http.StatusOK {
		t.Fatalf("Postmark bounce: %d, want 200\n%s", code, out.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, out.String())
	}
	if list := c.mustRun("subscribers", "list", "--status", "bounced"); !strings.Contains(list, to.Address) {
		t.Fatalf("%s not bounced:\n%s", to.Address, list)
	}
	if show := c.mustRun("subscribers", "show", to.Address); !strings.Contains(show, "webhook:postmark") {
		t.Errorf("the consent log does not name the webhook:\n%s", show)
	}
}
