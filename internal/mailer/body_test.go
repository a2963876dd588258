package mailer

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sameRendering fails unless prep, a message with a prepared body, renders byte for byte as
// go-mail renders full, the same message with its body filled in, and returns the rendering.
func sameRendering(t *testing.T, what string, full, prep Message) []byte {
	t.Helper()
	want, err := goMailRender(full)
	if err != nil {
		t.Fatal(err)
	}
	got, err := prep.Render(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: prepared body differs:\n got %q\nwant %q", what, got, want)
	}
	return want
}

// A message with a prepared body must be byte for byte the message with the filled body.
func TestPreparedBodyMatchesFull(t *testing.T) {
	const u, e = "{{U}}", "{{E}}"
	long := strings.Repeat("long line with words ", 8)
	tests := []struct {
		name, text, html string
		fills            [2]string
	}{
		{"both parts", "Hello\n.dot first\nUnsubscribe: " + u + "\nsent to " + e + ".", "<p>Hi " + e + "</p>\n<a href=\"" + u + "\">x</a>\n", [2]string{"https://n.example.org/unsubscribe/AAAA-bbb_=", "r@example.com"}},
		{"slot in a long line", long + u + long + "\n" + long + " \ntrailing space \n", "", [2]string{"https://n.example.org/unsubscribe/" + strings.Repeat("x", 90), "é@example.com"}},
		{"html only", "", "<html>\n" + strings.Repeat("<td>ünïcode "+u+" "+e+"</td>\n", 40) + "</html>", [2]string{"https://a.example/u/1?a=1&amp;b=2", ".lead@example.com"}},
		{"no slots used", "plain\r\ntext\r\n", "<b>x</b>", [2]string{"u", "e"}},
		{"slot at line start with dot fill", e + "\n" + u, "", [2]string{"..", ".x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := PrepareBody(tc.text, tc.html, u, e)
			if err != nil {
				t.Fatal(err)
			}
			r := strings.NewReplacer(u, tc.fills[0], e, tc.fills[1])
			full := Message{
				From: Address{Name: "Weekly", Email: "w@example.org"}, To: Address{Name: "Ré Ader", Email: "r@example.com"},
				Subject: "Subject", Date: time.Date(2026, 5, 4, 5, 0, 0, 0, time.UTC), MessageID: "1@example.org",
				Headers: []Header{{Name: "List-Unsubscribe", Value: "<" + tc.fills[0] + ">"}},
				Text:    r.Replace(tc.text), HTML: r.Replace(tc.html), Boundary: "b0undary",
			}
			prep := full
			prep.Text, prep.HTML = "", ""
			prep.Body, prep.TextFill, prep.HTMLFill = b, tc.fills[:], tc.fills[:]
			want := sameRendering(t, tc.name, full, prep)
			var stuffed bytes.Buffer
			if err := prep.writeBody(&stuffed, true); err != nil {
				t.Fatal(err)
			}
			if w := dotStuff(nil, want, true); !bytes.Equal(stuffed.Bytes(), w) {
				t.Fatalf("dot-stuffed prepared body differs:\n got %q\nwant %q", stuffed.Bytes(), w)
			}
		})
	}
}

func TestDotStuff(t *testing.T) {
	got := string(dotStuff(nil, []byte(".a\r\nb\n.c\r\n..d"), true))
	if want := "..a\r\nb\r\n..c\r\n...d"; got != want {
		t.Errorf("dotStuff = %q, want %q", got, want)
	}
}

func TestPreparedBodyValidation(t *testing.T) {
	b, err := PrepareBody("t {{U}}", "", "{{U}}")
	if err != nil {
		t.Fatal(err)
	}
	m := Message{From: Address{Email: "a@example.org"}, To: Address{Email: "b@example.org"}, Date: time.Now(), MessageID: "x@y", Body: b, TextFill: []string{"u"}}
	if err := m.Validate(); err == nil {
		t.Error("missing HTMLFill accepted")
	}
	m.HTMLFill = []string{"u"}
	if err := m.Validate(); err != nil {
		t.Error(err)
	}
	m.Text = "also"
	if err := m.Validate(); err == nil {
		t.Error("Text with Body accepted")
	}
	if _, err := PrepareBody("", "", "x"); err == nil {
		t.Error("empty body accepted")
	}
}

// Fill-ins are not checked for line breaks; a message whose last line ends in a bare CR must
// not change how the next message (with the pooled quoted-printable writer) encodes an LF.
func TestPreparedBodyBareCRBetweenMessages(t *testing.T) {
	b, err := PrepareBody("{{E}}", "", "{{E}}")
	if err != nil {
		t.Fatal(err)
	}
	for _, fill := range []string{"a\r", "\nb", "c"} {
		full := Message{
			From: Address{Email: "w@example.org"}, To: Address{Email: "r@example.com"},
			Date: time.Date(2026, 5, 4, 5, 0, 0, 0, time.UTC), MessageID: "1@example.org", Text: fill,
		}
		prep := full
		prep.Text, prep.Body, prep.TextFill, prep.HTMLFill = "", b, []string{fill}, []string{fill}
		sameRendering(t, "fill "+strconv.Quote(fill), full, prep)
	}
}
