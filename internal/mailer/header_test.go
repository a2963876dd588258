package mailer

import (
	"bytes"
	"io"
	netmail "net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wneessen/go-mail"
)

// headerCase is a message whose header block is written both by go-mail (the full path) and
// by appendLayout (the prepared-body path).
type headerCase struct {
	name string
	edit func(*Message)
}

var headerCases = []headerCase{
	{"ASCII", func(*Message) {}},
	{"non-ASCII names and subject", func(m *Message) {
		m.Subject, m.From.Name, m.To.Name = "Wöchentliche Übersicht — KW 19 ✓", "Bücherwurm Digest", "Zoë Ångström"
	}},
	{"non-ASCII name with specials (B-encoded)", func(m *Message) { m.To.Name = `Zoë "Z" Ångström, Jr.` }},
	{"long ASCII subject", func(m *Message) {
		m.Subject = strings.Repeat("A very long subject line about this week's stories, ", 8) + "the end"
	}},
	{"long non-ASCII subject and names", func(m *Message) {
		m.Subject = strings.Repeat("Größere Änderungen im Überblick — ", 6) + "Ende"
		m.From.Name = "Ünïcödé Nämé With Quite A Few Words In It For Folding"
		m.To.Name = strings.Repeat("Ωmega ", 20)
	}},
	{"quotes and backslashes in names", func(m *Message) {
		m.From.Name, m.To.Name = `News, Weekly (and "more")`, `Quote "Q" O'Brien \ back\slash`
	}},
	{"long ASCII names", func(m *Message) {
		m.From.Name = strings.Repeat("Weekly ", 15) + "Digest"
		m.To.Name = strings.Repeat("x", 70)
	}},
	{"no names, no Reply-To", func(m *Message) { m.From.Name, m.To.Name, m.ReplyTo = "", "", "" }},
	{"non-ASCII address", func(m *Message) { m.To = Address{Name: "Jörg", Email: "jörg@bücher.example"} }},
	{"odd atext address", func(m *Message) { m.To.Email = "o'brien+news/x=y{z}~@example.com" }},
	{"spaces in subject", func(m *Message) { m.Subject = "  two  spaces and a trailing one " }},
	{"no subject", func(m *Message) { m.Subject = "" }},
	{"one long word in subject", func(m *Message) { m.Subject = "x " + strings.Repeat("y", 300) + " z" }},
	{"subject word ending at the fold", func(m *Message) { m.Subject = strings.Repeat("ab ", 22) + strings.Repeat("c", 5) }},
	{"long Message-ID", func(m *Message) { m.MessageID = strings.Repeat("m", 80) + "@news.example.org" }},
	{"extra headers sorting around the fixed ones", func(m *Message) {
		m.Headers = append(m.Headers, Header{"X-Campaign", "w19"}, Header{"Auto-Submitted", "auto-generated"},
			Header{"x-lower", "sorts last"}, Header{"Feedback-ID", "19:weekly:news"}, Header{"Empty", ""},
			Header{"MIME-Extra", "between MIME-Version and Message-ID"})
	}},
	{"long List-Unsubscribe", func(m *Message) {
		m.Headers[1].Value = "<https://news.example.org/unsubscribe/" + strings.Repeat("T", 120) + ">, <mailto:u@news.example.org?subject=unsubscribe%20" + strings.Repeat("T", 120) + ">"
	}},
	{"other time zone", func(m *Message) { m.Date = time.Date(2026, 12, 31, 23, 59, 59, 0, time.FixedZone("", -9*3600-30*60)) }},
}

// TestHeaderMatchesGoMail: the prepared-body path writes its header block and MIME framing
// itself; they must be byte for byte what go-mail writes for the same message, with both
// parts, either part alone, and with go-mail's random boundary.
func TestHeaderMatchesGoMail(t *testing.T) {
	bodies := []struct{ name, text, html string }{
		{"both parts", "Hello {{E}},\n\nUnsubscribe: {{U}}\n", "<p>Hi</p>\n<a href=\"{{U}}\">x</a>\n"},
		{"text only", "Hello {{E}}\n", ""},
		{"html only", "", "<p>{{E}}</p>"},
	}
	for _, hc := range headerCases {
		for _, bc := range bodies {
			t.Run(hc.name+"/"+bc.name, func(t *testing.T) {
				full := sampleMessage()
				hc.edit(&full)
				checkSameAsGoMail(t, full, bc.text, bc.html)
			})
		}
	}
	t.Run("random boundary", func(t *testing.T) {
		full := sampleMessage()
		full.Boundary = ""
		checkSameAsGoMail(t, full, "text {{U}}\n", "<p>{{U}}</p>\n")
	})
}

var boundaryRE = regexp.MustCompile(`boundary=([0-9a-f]{60})\r\n`)

func checkSameAsGoMail(t *testing.T, full Message, text, html string) {
	t.Helper()
	const u, e = "https://news.example.org/unsubscribe/TOK", "alice@example.com"
	body, err := PrepareBody(text, html, "{{U}}", "{{E}}")
	if err != nil {
		t.Fatal(err)
	}
	r := strings.NewReplacer("{{U}}", u, "{{E}}", e)
	full.Text, full.HTML = r.Replace(text), r.Replace(html)
	prep := full
	prep.Text, prep.HTML, prep.Body, prep.TextFill, prep.HTMLFill = "", "", body, []string{u, e}, []string{u, e}
	got, err := prep.Render(nil)
	if err != nil {
		t.Fatal(err)
	}
	if full.Boundary == "" && text != "" && html != "" {
		m := boundaryRE.FindSubmatch(got)
		if m == nil {
			t.Fatalf("no 60-hex-digit boundary in %q", got)
		}
		full.Boundary = string(m[1])
	}
	want, err := goMailRender(full)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("prepared path differs from go-mail:\n got %q\nwant %q", got, want)
	}
	if _, err := netmail.ReadMessage(bytes.NewReader(got)); err != nil {
		t.Fatalf("not a message: %v", err)
	}
}

// FuzzHeaderMatchesGoMail extends the table to arbitrary names, subjects and header values
// that Validate accepts.
func FuzzHeaderMatchesGoMail(f *testing.F) {
	f.Add("Weekly Digest", "Zoë \"Z\" Ångström", "Subject  with — dashes", "<https://x.example/u/1>", "a.b@example.com")
	f.Add(strings.Repeat("n ", 50), "\\", " ", "", "x@y")
	f.Fuzz(func(t *testing.T, fromName, toName, subject, value, email string) {
		m := sampleMessage()
		m.From.Name, m.To.Name, m.To.Email, m.Subject = fromName, toName, email, subject
		m.Headers = append(m.Headers, Header{"X-Fuzz", value})
		if m.Validate() != nil {
			t.Skip()
		}
		checkSameAsGoMail(t, m, "t {{U}} {{E}}\n", "<p>{{U}}</p>")
	})
}

func TestIsSimpleEmailAgreesWithNetMail(t *testing.T) {
	for _, s := range []string{
		"a@b", "a.b@c.d", "o'brien+x/y=z{}|~`^?!#$%&*-_@ex.com", ".a@b", "a.@b", "a..b@c", "a@b..c", "a@.b",
		"a@b.", "@b", "a@", "a", "a b@c", "a@b c", `"a"@b`, "a@[1.2.3.4]", "é@x.org", "a@b@c", "(c)a@b", "a@b(c)",
		"a<b@c", "a,b@c", "a;b@c", "a:b@c", `a\b@c`, "a[b@c", "a@b\x7f", "a@b\t",
	} {
		a, err := netmail.ParseAddress(s)
		ok := err == nil && a.Name == "" && a.Address == s
		if isSimpleEmail(s) && !ok {
			t.Errorf("isSimpleEmail(%q) but net/mail gives %v, %v", s, a, err)
		}
		if isSimpleEmail(s) != (checkEmail(s) == nil) && isSimpleEmail(s) {
			t.Errorf("checkEmail(%q) disagrees", s)
		}
	}
}

// BenchmarkPreparedMessage is the mailer's share of a message with a prepared body:
// Validate, the header block and the fill-ins, without the delivery package's token.
func BenchmarkPreparedMessage(b *testing.B) {
	m := sampleMessage()
	body, err := PrepareBody(strings.Repeat("text line\n", 500)+"{{U}}\n", strings.Repeat("<p>html line</p>\n", 1500)+"<a href=\"{{U}}\">{{E}}</a>\n", "{{U}}", "{{E}}")
	if err != nil {
		b.Fatal(err)
	}
	m.Text, m.HTML, m.Boundary = "", "", ""
	m.Body, m.TextFill, m.HTMLFill = body, []string{"https://n.example/u/T", "a@example.com"}, []string{"https://n.example/u/T", "a@example.com"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// goMailMsg converts the message into go-mail's form, the reference the tests hold
// WriteTo's bytes to.
func goMailMsg(m Message) (*mail.Msg, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	opts := []mail.MsgOption{
		// Otherwise go-mail adds "User-Agent" and "X-Mailer: go-mail v0.8.1 // https://…".
		mail.WithNoDefaultUserAgent(),
		mail.WithCharset(mail.CharsetUTF8),
		mail.WithEncoding(mail.EncodingQP),
	}
	if m.Boundary != "" {
		opts = append(opts, mail.WithBoundary(m.Boundary))
	}
	msg := mail.NewMsg(opts...)
	// The *MailAddress setters take the address as is; the string setters re-parse it, and
	// FromFormat does not escape quotes in the name.
	msg.FromMailAddress(&netmail.Address{Name: m.From.Name, Address: m.From.Email})
	msg.ToMailAddress(&netmail.Address{Name: m.To.Name, Address: m.To.Email})
	if m.ReplyTo != "" {
		msg.ReplyToMailAddress(&netmail.Address{Address: m.ReplyTo})
	}
	if m.EnvelopeFrom != "" {
		msg.EnvelopeFromMailAddress(&netmail.Address{Address: m.EnvelopeFrom})
	}
	if m.Subject != "" {
		msg.Subject(m.Subject)
	}
	msg.SetDateWithValue(m.Date)
	msg.SetMessageIDWithValue(m.MessageID)
	for _, h := range m.Headers {
		// Validate allows printable ASCII only, which go-mail's RFC 2047 encoder leaves as is;
		// SetGenHeader (unlike SetGenHeaderPreformatted) folds long values and writes in a
		// stable order.
		msg.SetGenHeader(mail.Header(h.Name), h.Value)
	}
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(mail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	case m.Text != "":
		msg.SetBodyString(mail.TypeTextPlain, m.Text)
	default:
		msg.SetBodyString(mail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// goMailRender is the message as go-mail writes it.
func goMailRender(m Message) ([]byte, error) {
	msg, err := goMailMsg(m)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	_, err = msg.WriteTo(&buf)
	return buf.Bytes(), err
}

// FuzzWriteToMatchesGoMail: WriteTo writes every message, not only those with a prepared
// body, as go-mail would, whatever the text and HTML.
func FuzzWriteToMatchesGoMail(f *testing.F) {
	f.Add("Hello\n.dot\r\nbare\rCR \n", "<p>ünï</p>\n")
	f.Add("", "x")
	f.Add(strings.Repeat("long line with words ", 8)+" \n", "")
	f.Fuzz(func(t *testing.T, text, html string) {
		m := sampleMessage()
		m.Text, m.HTML = text, html
		if m.Validate() != nil {
			t.Skip()
		}
		want, err := goMailRender(m)
		if err != nil {
			t.Fatal(err)
		}
		if got := render(t, m); !bytes.Equal(got, want) {
			t.Fatalf("WriteTo differs from go-mail:\n got %q\nwant %q", got, want)
		}
	})
}
