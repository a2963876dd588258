package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"testing"
	"time"

	"newsletter/internal/mailer"
)

// mailpitPath finds mailpit v1.33.1 on PATH or in GOPATH/bin, where .ci/run installs it.
func mailpitPath() string {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	p := filepath.Join(build.Default.GOPATH, "bin", "mailpit")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startMailpit runs mailpit on loopback and returns the base URL of its HTTP API.
func startMailpit(t *testing.T, exe string) string {
	t.Helper()
	httpAddr, smtpAddr := freePort(t), freePort(t)
	cmd := exec.Command(exe, "--listen", httpAddr, "--smtp", smtpAddr, "--disable-version-check",
		"--database", filepath.Join(t.TempDir(), "mailpit.db"))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	base := "http://" + httpAddr
	for range 100 {
		if resp, err := http.Get(base + "/api/v1/info"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("mailpit did not answer on %s:\n%s", httpAddr, logs.String())
	return ""
}

// htmlCheck is the part of mailpit's /api/v1/message/{id}/html-check answer the test reads.
type htmlCheck struct {
	Total struct {
		Nodes                           int
		Supported, Partial, Unsupported float64
	}
	Warnings []struct {
		Slug  string
		Score struct {
			Found                           int
			Supported, Partial, Unsupported float64
		}
	}
}

// caniemail sends e to mailpit through its send API and returns its caniemail check.
func caniemail(t *testing.T, base string, e Email) htmlCheck {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"From":    map[string]string{"Email": "weekly@technerdo.com", "Name": "The Technerdo Weekly"},
		"To":      []map[string]string{{"Email": "reader@example.com"}},
		"Subject": e.Subject,
		"HTML":    e.HTML,
		"Text":    e.Text,
	})
	resp, err := http.Post(base+"/api/v1/send", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var sent struct{ ID string }
	err = json.NewDecoder(resp.Body).Decode(&sent)
	resp.Body.Close()
	if err != nil || sent.ID == "" {
		t.Fatalf("mailpit send: %s %v", resp.Status, err)
	}
	resp, err = http.Get(base + "/api/v1/message/" + sent.ID + "/html-check")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var hc htmlCheck
	if err := json.NewDecoder(resp.Body).Decode(&hc); err != nil {
		t.Fatalf("html-check: %s %v", resp.Status, err)
	}
	return hc
}

// TestClientSupport scores the sample and the harsh issue with mailpit's caniemail check
// (the data of caniemail.com embedded in mailpit v1.33.1): at least 95% supported. It skips
// where mailpit is not installed (.ci/run installs it).
func TestClientSupport(t *testing.T) {
	exe := mailpitPath()
	if exe == "" {
		t.Skip("mailpit is not installed (go install github.com/axllent/mailpit@v1.33.1; .ci/run does): caniemail check skipped")
	}
	if testing.Short() {
		t.Skip("mailpit check skipped in -short mode")
	}
	base := startMailpit(t, exe)
	for _, name := range []string{"sample", "harsh"} {
		t.Run(name, func(t *testing.T) {
			e := mustIssue(t, mustNew(t, inboxPublication(), ""), inboxIssues(t)[name])
			hc := caniemail(t, base, e)
			sort.Slice(hc.Warnings, func(i, j int) bool {
				wi, wj := hc.Warnings[i], hc.Warnings[j]
				return (wi.Score.Unsupported+wi.Score.Partial)*float64(wi.Score.Found) > (wj.Score.Unsupported+wj.Score.Partial)*float64(wj.Score.Found)
			})
			var top []string
			for _, w := range hc.Warnings[:min(8, len(hc.Warnings))] {
				top = append(top, fmt.Sprintf("%s ×%d (%.0f%% unsupported, %.0f%% partial)", w.Slug, w.Score.Found, w.Score.Unsupported, w.Score.Partial))
			}
			t.Logf("%s: %.2f%% supported, %.2f%% partial, %.2f%% unsupported over %d nodes; %d bytes of HTML; worst: %q",
				name, hc.Total.Supported, hc.Total.Partial, hc.Total.Unsupported, hc.Total.Nodes, len(e.HTML), top)
			if hc.Total.Supported < 95 {
				t.Errorf("%s: caniemail support %.2f%%, want at least 95%%", name, hc.Total.Supported)
			}
		})
	}
}

// TestSpamAssassinInbox scores the sample and the harsh issue, each as the full message a
// subscriber gets, with SpamAssassin's shipped rules (no network): below 1.0 as the
// delivery test asks of its message. It skips where spamassassin is not installed.
func TestSpamAssassinInbox(t *testing.T) {
	sa, err := exec.LookPath("spamassassin")
	if err != nil {
		t.Skip("spamassassin is not installed (apt-get install spamassassin); .ci/run installs it")
	}
	if testing.Short() {
		t.Skip("spamassassin check skipped in -short mode")
	}
	for _, name := range []string{"sample", "harsh"} {
		t.Run(name, func(t *testing.T) {
			e := mustIssue(t, mustNew(t, inboxPublication(), ""), inboxIssues(t)[name])
			unsub := "https://news.technerdo.com/unsubscribe/AAAAAAAAAAHSUioVfM7-8ErTKzI28YIX"
			html, text := e.Personalize(Recipient{Email: "ada@example.com", UnsubscribeURL: unsub})
			m := mailer.Message{
				From:      mailer.Address{Name: "The Technerdo Weekly", Email: "weekly@technerdo.com"},
				To:        mailer.Address{Name: "Ada", Email: "ada@example.com"},
				Subject:   e.Subject,
				Date:      time.Now(), // a stale Date costs points of its own
				MessageID: "2026-W19.1.1.tehxw0.cg6v6afo@technerdo.com",
				Headers: []mailer.Header{
					{Name: "List-Id", Value: "The Technerdo Weekly <weekly.technerdo.com>"},
					{Name: "List-Unsubscribe", Value: "<" + unsub + ">"},
					{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"},
					{Name: "Precedence", Value: "bulk"},
					{Name: "Feedback-ID", Value: "2026-w19:weekly.technerdo.com:the-technerdo-weekly"},
				},
				Text: text,
				HTML: html,
			}
			var buf bytes.Buffer
			if _, err := m.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			writeArtifact(t, name+".eml", buf.Bytes())
			cmd := exec.Command(sa, "-L", "-t")
			cmd.Stdin = &buf
			out, _ := cmd.Output() // non-zero for spam; the score is what counts
			sm := regexp.MustCompile(`X-Spam-Status: \w+, score=(-?[0-9.]+)`).FindSubmatch(out)
			if sm == nil {
				t.Fatalf("no X-Spam-Status in spamassassin output:\n%s", out)
			}
			score, _ := strconv.ParseFloat(string(sm[1]), 64)
			report := out
			if i := bytes.Index(out, []byte("Content analysis details")); i >= 0 {
				report = out[i:]
			}
			t.Logf("%s: SpamAssassin score %.1f\n%s", name, score, report)
			if score >= 1.0 {
				t.Errorf("%s: SpamAssassin score %.1f, want below 1.0", name, score)
			}
		})
	}
}
