package mailer

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// sampleMessage is a complete newsletter-like message with fixed Date, MessageID and
// Boundary, so its rendering is stable.
func sampleMessage() Message {
	return Message{
		From:         Address{Name: "Weekly Digest", Email: "news@news.example.org"},
		To:           Address{Name: "Alice Example", Email: "alice@example.com"},
		ReplyTo:      "editor@news.example.org",
		EnvelopeFrom: "bounces@news.example.org",
		Subject:      "This week's stories",
		Date:         time.Date(2026, 5, 5, 7, 0, 0, 0, time.UTC),
		MessageID:    "2026-W19.42@news.example.org",
		Headers: []Header{
			{Name: "List-Id", Value: "Weekly Digest <weekly.news.example.org>"},
			{Name: "List-Unsubscribe", Value: "<https://news.example.org/unsubscribe/OPAQUE-TOKEN>, <mailto:unsubscribe@news.example.org?subject=unsubscribe%20OPAQUE-TOKEN>"},
			{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"},
			{Name: "Precedence", Value: "bulk"},
		},
		Text:     "Hello Alice,\n\nThree stories this week.\n\nUnsubscribe: https://news.example.org/unsubscribe/OPAQUE-TOKEN\n",
		HTML:     "<!doctype html>\n<html lang=\"en\"><body><p>Hello Alice,</p><p>Three stories this week — enjoy.</p><p><a href=\"https://news.example.org/unsubscribe/OPAQUE-TOKEN\">Unsubscribe</a></p></body></html>\n",
		Boundary: "golden-boundary-2026",
	}
}

func render(t *testing.T, m Message) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := m.WriteTo(&buf)
	if err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	if n != int64(buf.Len()) {
		t.Errorf("WriteTo returned %d, wrote %d bytes", n, buf.Len())
	}
	return buf.Bytes()
}

func TestWriteToGolden(t *testing.T) {
	got := render(t, sampleMessage())
	golden := filepath.Join("testdata", "message.golden.eml")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/mailer -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("rendering differs from %s (run with -update and review the diff):\n%s", golden, got)
	}
}

func TestWriteToStructure(t *testing.T) {
	raw := render(t, sampleMessage())
	checkCRLF(t, raw)

	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("net/mail cannot read it: %v", err)
	}
	wantHeaders := map[string]string{
		"From":                  `"Weekly Digest" <news@news.example.org>`,
		"To":                    `"Alice Example" <alice@example.com>`,
		"Reply-To":              `<editor@news.example.org>`,
		"Subject":               "This week's stories",
		"Date":                  "Tue, 05 May 2026 07:00:00 +0000",
		"Message-Id":            "<2026-W19.42@news.example.org>",
		"Mime-Version":          "1.0",
		"List-Id":               "Weekly Digest <weekly.news.example.org>",
		"List-Unsubscribe":      "<https://news.example.org/unsubscribe/OPAQUE-TOKEN>, <mailto:unsubscribe@news.example.org?subject=unsubscribe%20OPAQUE-TOKEN>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"Precedence":            "bulk",
		"Content-Type":          "multipart/alternative; boundary=golden-boundary-2026",
	}
	for name, want := range wantHeaders {
		if got := msg.Header[name]; len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q, want exactly [%q]", name, got, want)
		}
	}
	for name := range msg.Header {
		if _, ok := wantHeaders[name]; !ok {
			t.Errorf("unexpected header %s: %q", name, msg.Header[name])
		}
	}
	for _, name := range []string{"User-Agent", "X-Mailer", "Bcc", "Return-Path"} {
		if v := msg.Header.Get(name); v != "" {
			t.Errorf("header %s = %q, want none", name, v)
		}
	}
	if d, err := msg.Header.Date(); err != nil || !d.Equal(sampleMessage().Date) {
		t.Errorf("Date parses to %v, %v", d, err)
	}

	parts := readParts(t, msg)
	if len(parts) != 2 {
		t.Fatalf("%d parts, want 2", len(parts))
	}
	for i, want := range []struct{ ctype, body string }{
		{"text/plain; charset=UTF-8", sampleMessage().Text},
		{"text/html; charset=UTF-8", sampleMessage().HTML},
	} {
		if got := parts[i].header.Get("Content-Type"); got != want.ctype {
			t.Errorf("part %d Content-Type = %q, want %q (text first, HTML last: RFC 2046)", i, got, want.ctype)
		}
		if got := parts[i].header.Get("Content-Transfer-Encoding"); got != "quoted-printable" {
			t.Errorf("part %d Content-Transfer-Encoding = %q", i, got)
		}
		// Quoted-printable turns LF into CRLF; compare the text.
		if got := strings.ReplaceAll(parts[i].body, "\r\n", "\n"); got != want.body {
			t.Errorf("part %d body = %q, want %q", i, got, want.body)
		}
	}
}

type part struct {
	header netmail.Header
	body   string
}

// readParts decodes a multipart/alternative body; the quoted-printable is undone by hand,
// as multipart.Reader would hide the Content-Transfer-Encoding header.
func readParts(t *testing.T, msg *netmail.Message) []part {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	var out []part
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			t.Fatalf("part body: %v", err)
		}
		out = append(out, part{netmail.Header(p.Header), string(body)})
	}
}

// checkCRLF fails on a bare LF or CR, or a line longer than RFC 5322's 998 characters.
func checkCRLF(t *testing.T, raw []byte) {
	t.Helper()
	for i, line := range bytes.Split(raw, []byte("\r\n")) {
		if bytes.ContainsAny(line, "\r\n") {
			t.Errorf("line %d holds a bare CR or LF: %q", i+1, line)
		}
		if len(line) > 998 {
			t.Errorf("line %d is %d characters long", i+1, len(line))
		}
	}
}

// headerLines returns the header block's physical lines.
func headerLines(raw []byte) []string {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	return strings.Split(string(head), "\r\n")
}

func TestWriteToEncodedWords(t *testing.T) {
	long := strings.Repeat("A very long subject line about this week's stories, ", 8) + "the end"
	tests := []struct {
		name     string
		subject  string
		fromName string
		toName   string
	}{
		{name: "non-ASCII", subject: "Wöchentliche Übersicht — KW 19 ✓", fromName: "Bücherwurm Digest", toName: "Zoë Ångström"},
		{name: "long ASCII", subject: long, fromName: "Weekly Digest", toName: "Alice"},
		{name: "long non-ASCII", subject: strings.Repeat("Größere Änderungen im Überblick — ", 6) + "Ende", fromName: "Ünïcödé Nämé With Quite A Few Words In It For Folding", toName: `Quote "Q" O'Brien`},
		{name: "name with specials", subject: "Hi", fromName: `News, Weekly (and "more")`, toName: "Doe; John"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := sampleMessage()
			m.Subject, m.From.Name, m.To.Name = tt.subject, tt.fromName, tt.toName
			raw := render(t, m)
			checkCRLF(t, raw)
			for _, line := range headerLines(raw) {
				// RFC 5322 §2.1.1: SHOULD be at most 78 characters; go-mail folds at 76.
				if len(line) > 78 {
					t.Errorf("header line of %d characters: %q", len(line), line)
				}
				if !isASCII(line) {
					t.Errorf("raw 8-bit in header: %q", line)
				}
			}
			msg, err := netmail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			var dec mime.WordDecoder
			subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
			if err != nil || subject != tt.subject {
				t.Errorf("Subject decodes to %q, %v; want %q", subject, err, tt.subject)
			}
			for _, a := range []struct {
				header string
				want   Address
			}{{"From", m.From}, {"To", m.To}} {
				got, err := msg.Header.AddressList(a.header)
				if err != nil || len(got) != 1 || got[0].Name != a.want.Name || got[0].Address != a.want.Email {
					t.Errorf("%s parses to %v, %v; want %+v", a.header, got, err, a.want)
				}
			}
		})
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func TestWriteToSinglePart(t *testing.T) {
	tests := []struct {
		name, text, html, ctype string
	}{
		{name: "text only", text: "just text\n", ctype: "text/plain; charset=UTF-8"},
		{name: "HTML only", html: "<p>just html</p>\n", ctype: "text/html; charset=UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := sampleMessage()
			m.Text, m.HTML = tt.text, tt.html
			raw := render(t, m)
			msg, err := netmail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if got := msg.Header.Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type = %q, want %q", got, tt.ctype)
			}
			body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.ReplaceAll(string(body), "\r\n", "\n"); got != tt.text+tt.html {
				t.Errorf("body = %q", got)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Message)
		field string // must appear in the error; "" means valid
	}{
		{name: "valid", edit: func(*Message) {}},
		{name: "no Reply-To or envelope", edit: func(m *Message) { m.ReplyTo, m.EnvelopeFrom = "", "" }},
		{name: "text only", edit: func(m *Message) { m.HTML = "" }},
		{name: "empty subject", edit: func(m *Message) { m.Subject = "" }},
		{name: "missing From", edit: func(m *Message) { m.From = Address{} }, field: "From.Email"},
		{name: "From with brackets", edit: func(m *Message) { m.From.Email = "<news@news.example.org>" }, field: "From.Email"},
		{name: "From with name inside", edit: func(m *Message) { m.From.Email = "News <news@news.example.org>" }, field: "From.Email"},
		{name: "From without domain", edit: func(m *Message) { m.From.Email = "news" }, field: "From.Email"},
		{name: "missing To", edit: func(m *Message) { m.To.Email = "" }, field: "To.Email"},
		{name: "two To", edit: func(m *Message) { m.To.Email = "a@example.com, b@example.com" }, field: "To.Email"},
		{name: "CRLF in To address", edit: func(m *Message) { m.To.Email = "alice@example.com\r\nBcc: victim@example.com" }, field: "To.Email"},
		{name: "CRLF in To name", edit: func(m *Message) { m.To.Name = "Alice\r\nBcc: victim@example.com" }, field: "To.Name"},
		{name: "LF in From name", edit: func(m *Message) { m.From.Name = "News\nX-Evil: 1" }, field: "From.Name"},
		{name: "bad Reply-To", edit: func(m *Message) { m.ReplyTo = "not an address" }, field: "ReplyTo"},
		{name: "bad EnvelopeFrom", edit: func(m *Message) { m.EnvelopeFrom = "bounces@example.org\r\nRCPT TO:<x@y>" }, field: "EnvelopeFrom"},
		{name: "CRLF in Subject", edit: func(m *Message) { m.Subject = "Hello\r\nBcc: victim@example.com" }, field: "Subject"},
		{name: "LF in Subject", edit: func(m *Message) { m.Subject = "Hello\nBcc: victim@example.com" }, field: "Subject"},
		{name: "CR in Subject", edit: func(m *Message) { m.Subject = "Hello\rBcc: victim@example.com" }, field: "Subject"},
		{name: "NUL in Subject", edit: func(m *Message) { m.Subject = "Hello\x00" }, field: "Subject"},
		{name: "C1 control in Subject", edit: func(m *Message) { m.Subject = "Hello\u0085there" }, field: "Subject"},
		{name: "invalid UTF-8 Subject", edit: func(m *Message) { m.Subject = "Hello \xff" }, field: "Subject"},
		{name: "unfoldable Subject", edit: func(m *Message) { m.Subject = "x " + strings.Repeat("y", 901) }, field: "Subject"},
		{name: "unfoldable header value", edit: func(m *Message) { m.Headers[1].Value = "<https://example.org/" + strings.Repeat("u", 900) + ">" }, field: "Headers[1].Value"},
		{name: "unfoldable name", edit: func(m *Message) { m.To.Name = strings.Repeat("n", 1000) }, field: "To.Name"},
		{name: "long but foldable Subject", edit: func(m *Message) { m.Subject = strings.Repeat("word ", 400) + "end" }},
		{name: "missing Date", edit: func(m *Message) { m.Date = time.Time{} }, field: "Date"},
		{name: "missing MessageID", edit: func(m *Message) { m.MessageID = "" }, field: "MessageID"},
		{name: "MessageID with brackets", edit: func(m *Message) { m.MessageID = "<a@b>" }, field: "MessageID"},
		{name: "MessageID without @", edit: func(m *Message) { m.MessageID = "2026-W19.42" }, field: "MessageID"},
		{name: "MessageID with CRLF", edit: func(m *Message) { m.MessageID = "a@b\r\nBcc: x@y" }, field: "MessageID"},
		{name: "MessageID with space", edit: func(m *Message) { m.MessageID = "a b@c" }, field: "MessageID"},
		{name: "CRLF in header value", edit: func(m *Message) {
			m.Headers[1].Value = "<https://example.org/u/x>\r\nBcc: victim@example.com"
		}, field: "Headers[1].Value"},
		{name: "LF in header value", edit: func(m *Message) { m.Headers[0].Value = "x\nBcc: y@z" }, field: "Headers[0].Value"},
		{name: "tab in header value", edit: func(m *Message) { m.Headers[0].Value = "x\ty" }, field: "Headers[0].Value"},
		{name: "non-ASCII header value", edit: func(m *Message) { m.Headers[0].Value = "Wöchentlich <w.example.org>" }, field: "Headers[0].Value"},
		{name: "colon in header name", edit: func(m *Message) { m.Headers[0].Name = "Bcc: victim@example.com\r\nX" }, field: "Headers[0].Name"},
		{name: "space in header name", edit: func(m *Message) { m.Headers[0].Name = "List Id" }, field: "Headers[0].Name"},
		{name: "empty header name", edit: func(m *Message) { m.Headers[0].Name = "" }, field: "Headers[0].Name"},
		{name: "reserved header", edit: func(m *Message) { m.Headers[0].Name = "content-type" }, field: "Headers[0].Name"},
		{name: "Bcc header", edit: func(m *Message) { m.Headers[0].Name = "Bcc" }, field: "Headers[0].Name"},
		{name: "duplicate header", edit: func(m *Message) { m.Headers[3].Name = "list-id" }, field: "Headers[3].Name"},
		{name: "no body", edit: func(m *Message) { m.Text, m.HTML = "", "" }, field: "no body"},
		{name: "invalid UTF-8 HTML", edit: func(m *Message) { m.HTML = "<p>\xc3</p>" }, field: "HTML"},
		{name: "bad boundary", edit: func(m *Message) { m.Boundary = "bad\r\nboundary" }, field: "Boundary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := sampleMessage()
			m.Headers = append([]Header(nil), m.Headers...)
			tt.edit(&m)
			err := m.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted it")
			}
			if !errors.Is(err, ErrInvalidMessage) {
				t.Errorf("error does not wrap ErrInvalidMessage: %v", err)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not name %s", err, tt.field)
			}
			if strings.Contains(err.Error(), "\r") || strings.Contains(err.Error(), "\nBcc") {
				t.Errorf("error echoes a raw CR/LF: %q", err)
			}
			var buf bytes.Buffer
			if n, werr := m.WriteTo(&buf); werr == nil || n != 0 || buf.Len() != 0 {
				t.Errorf("WriteTo wrote %d bytes, err %v; want nothing and an error", n, werr)
			}
		})
	}
}

func BenchmarkWriteTo(b *testing.B) {
	m := sampleMessage()
	var html strings.Builder
	html.WriteString("<!doctype html><html><body>")
	for html.Len() < 60<<10 {
		html.WriteString(`<table role="presentation" width="600"><tr><td style="font-family:Georgia,serif;font-size:16px;line-height:1.5;color:#222"><h2><a href="https://news.example.org/story/12345?utm_source=newsletter">A story headline — with a dash</a></h2><p>Summary text of the story, a few sentences long, naïve café résumé.</p></td></tr></table>` + "\n")
	}
	html.WriteString("</body></html>\n")
	m.HTML = html.String()
	m.Text = strings.Repeat("A story headline\nhttps://news.example.org/story/12345\n\n", 300)
	b.SetBytes(int64(len(m.HTML) + len(m.Text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
