package bounce

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const bounceAddr = "bounces@news.example.org"

func TestParseSamples(t *testing.T) {
	tests := []struct {
		file string
		want Report
	}{
		{"postfix-hard.eml", Report{
			Kind: Hard, Format: FormatDSN, VERPToken: "aaaq2abcdefghijklmno",
			MessageID: "2026-W20.7.3@news.example.org", UnsubscribeToken: "AAAAAAAAAAMxq0l2fB_9aQk3Zt0s7cYx",
			FinalRecipient: "carol@example.net", Status: "5.1.1",
			Reason: "550 5.1.1 <carol@example.net>: Recipient address rejected: User unknown in virtual mailbox table",
			Date:   time.Date(2026, 5, 12, 10, 2, 14, 0, time.UTC),
		}},
		{"postfix-delayed.eml", Report{
			Kind: Soft, Format: FormatDSN, VERPToken: "bbbq2abcdefghijklmno",
			MessageID: "2026-W20.7.4@news.example.org", FinalRecipient: "dave@example.org", Status: "4.7.1",
			Reason: "451 4.7.1 Greylisted, please try again later",
			Date:   time.Date(2026, 5, 13, 14, 20, 1, 0, time.UTC),
		}},
		{"exim-hard.eml", Report{
			Kind: Hard, Format: FormatDSN, VERPToken: "cccq2abcdefghijklmno",
			MessageID: "2026-W20.7.5@news.example.org", UnsubscribeToken: "AAAAAAAAAAU7fQk2pLm0cR1sXx9aBv4w",
			FinalRecipient: "erin@example.co.uk", Status: "5.2.1",
			Reason: "550 5.2.1 The email account that you tried to reach is disabled",
			Date:   time.Date(2026, 5, 12, 10, 15, 42, 0, time.UTC),
		}},
		{"gmail-hard.eml", Report{
			Kind: Hard, Format: FormatDSN, VERPToken: "dddq2abcdefghijklmno",
			MessageID: "2026-W20.7.6@news.example.org", UnsubscribeToken: "AAAAAAAAAAYp3mQ8vRt2xZ1kLw7nBc0e",
			FinalRecipient: "frank.nonexistent@gmail.com", Status: "5.1.1",
			Reason: "550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. For more information, go to https://suppor…",
			Date:   time.Date(2026, 5, 12, 10, 30, 12, 0, time.UTC),
		}},
		{"qmail-hard.eml", Report{
			Kind: Hard, Format: FormatDSN, VERPToken: "gggq2abcdefghijklmno",
			MessageID: "2026-W20.7.9@news.example.org", UnsubscribeToken: "AAAAAAAAAAkq8wE3rTy6uIo9pAs2dFg1",
			FinalRecipient: "heidi@example.biz", Status: "5.1.1",
			Reason: "Remote host said: 550 5.1.1 <heidi@example.biz>... User unknown",
			Date:   time.Date(2026, 5, 12, 10, 40, 2, 0, time.UTC),
		}},
		{"yahoo-arf.eml", Report{
			Kind: Complaint, Format: FormatARF, VERPToken: "eeeq2abcdefghijklmno",
			MessageID: "2026-W20.7.8@news.example.org", UnsubscribeToken: "AAAAAAAAAAg9zXk4qWe7rTy2uIo0pAs3",
			FinalRecipient: "redacted@yahoo.com",
			Reason:         "feedback-type abuse (reported by Yahoo!-Mail-Feedback/2.0)",
			Date:           time.Date(2026, 5, 14, 8, 41, 5, 0, time.UTC),
		}},
		{"truncated.eml", Report{
			Kind: Irrelevant, VERPToken: "aaaq2abcdefghijklmno",
			Reason: "delivery status notification without a recipient's Action (truncated?)",
			Date:   time.Date(2026, 5, 12, 10, 2, 14, 0, time.UTC),
		}},
		{"truncated-no-headers.eml", Report{
			Kind: Hard, Format: FormatDSN, VERPToken: "aaaq2abcdefghijklmno",
			FinalRecipient: "carol@example.net", Status: "5.1.1", Reason: "550 5.1.1 <carol@exa",
			Date: time.Date(2026, 5, 12, 10, 2, 14, 0, time.UTC),
		}},
		{"vacation.eml", Report{
			Kind: Irrelevant, VERPToken: "fffq2abcdefghijklmno",
			Reason: "not a bounce or complaint (subject Out of office: This week's stories)",
			Date:   time.Date(2026, 5, 12, 12, 0, 0, 0, time.UTC),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := Parse(f, Options{BounceAddress: bounceAddr})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !got.Date.Equal(tt.want.Date) {
				t.Errorf("Date = %v, want %v", got.Date, tt.want.Date)
			}
			got.Date, tt.want.Date = time.Time{}, time.Time{}
			got.ReportID = "" // TestReportID
			if got != tt.want {
				t.Errorf("Parse =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestParseInline(t *testing.T) {
	tests := []struct {
		name    string
		msg     string
		kind    Kind
		wantErr error
	}{
		{"empty", "", "", ErrUnreadable},
		{"binary", "\x00\x01\x02\x7fELF garbage\n\n", "", ErrUnreadable},
		{"no mail fields", "Foo: bar\n\nbody\n", "", ErrUnreadable},
		{"ordinary mail", "From: a@example.com\nSubject: hello\n\nhi\n", Irrelevant, nil},
		{"arf not-spam", "From: fbl@example.com\nContent-Type: multipart/report; report-type=feedback-report; boundary=b\n\n--b\nContent-Type: message/feedback-report\n\nFeedback-Type: not-spam\nVersion: 1\n\n--b--\n", Irrelevant, nil},
		{"dsn delivered", "From: m@example.com\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\nFinal-Recipient: rfc822; a@b.example\nAction: delivered\nStatus: 2.0.0\n\n--b--\n", Irrelevant, nil},
		{"dsn failed 4xx", "From: m@example.com\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\nFinal-Recipient: rfc822; a@b.example\nAction: failed\nStatus: 4.4.7\n\n--b--\n", Soft, nil},
		{"an IP address is not a status", "From: Mail Delivery System <MAILER-DAEMON@x.example>\nSubject: Mail delivery failed\n\nSMTP error from host 10.4.5.6 after RCPT TO:<a@b.example>:\n550 5.1.1 no such user\n", Hard, nil},
		{"a success code before the failure", "From: MAILER-DAEMON@x.example\nSubject: Undelivered Mail\n\n<<< 250 2.1.0 Ok\n<<< 452 4.2.2 mailbox full\n", Soft, nil},
		{"an unknown transfer encoding reads as it is", "From: MAILER-DAEMON@x.example\nSubject: Undelivered Mail\nContent-Transfer-Encoding: x-rot13\n\n550 5.1.1 no such user a@b.example\n", Hard, nil},
		{"mangled header line", "From: MAILER-DAEMON@x.example\nthis is not a header\nSubject: Undelivered Mail\n\n550 5.1.1 no such user a@b.example\n", Hard, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.msg), Options{BounceAddress: bounceAddr})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != tt.kind {
				t.Errorf("Kind = %q (%s), want %q", got.Kind, got.Reason, tt.kind)
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	msg := "From: a@example.com\nSubject: big\n\n" + strings.Repeat("x", 2048)
	_, err := Parse(strings.NewReader(msg), Options{MaxBytes: 1024})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	// Exactly at the cap is read.
	if _, err := Parse(strings.NewReader(msg[:1024]), Options{MaxBytes: 1024}); err != nil {
		t.Fatalf("at the cap: %v", err)
	}
}

func TestVERPOnlyForOurBounceAddress(t *testing.T) {
	for _, to := range []string{"bounces+tok@other.example", "news+tok@news.example.org", "bounces@news.example.org", "bounces+@news.example.org"} {
		msg := "From: a@example.com\nTo: " + to + "\nSubject: x\n\nhi\n"
		got, err := Parse(strings.NewReader(msg), Options{BounceAddress: bounceAddr})
		if err != nil {
			t.Fatal(err)
		}
		if got.VERPToken != "" {
			t.Errorf("To %s: VERPToken %q, want none", to, got.VERPToken)
		}
	}
	got, _ := Parse(strings.NewReader("From: a@example.com\nTo: BOUNCES+Tok@NEWS.example.org\n\nhi\n"), Options{BounceAddress: bounceAddr})
	if got.VERPToken != "Tok" {
		t.Errorf("VERPToken %q, want Tok", got.VERPToken)
	}
}

func TestParseMailto(t *testing.T) {
	opt := Options{BounceAddress: bounceAddr, UnsubscribeAddress: "unsubscribe@news.example.org"}
	tests := []struct {
		name, msg string
		kind      Kind
		token     string
	}{
		{"token in the subject", "From: Carol <carol@example.net>\nTo: unsubscribe@news.example.org\nSubject: unsubscribe AAAAAAAAAAMxq0l2\nDate: Tue, 12 May 2026 10:00:00 +0000\n\n", Unsubscribe, "AAAAAAAAAAMxq0l2"},
		{"token in the address", "From: carol@example.net\nDelivered-To: Unsubscribe+TOK123@news.example.org\nTo: x@news.example.org\nSubject: please remove me\n\n", Unsubscribe, "TOK123"},
		{"encoded subject", "From: carol@example.net\nTo: <unsubscribe@news.example.org>\nSubject: =?utf-8?q?unsubscribe_TOK9?=\n\n", Unsubscribe, "TOK9"},
		{"plus kept from the mailto: URL", "From: carol@example.net\nTo: unsubscribe@news.example.org\nSubject: unsubscribe+TOK-_7\n\n", Unsubscribe, "TOK-_7"},
		{"no token", "From: carol@example.net\nTo: unsubscribe@news.example.org\nSubject: stop\n\n", Irrelevant, ""},
		{"not to the unsubscribe address", "From: carol@example.net\nTo: editor@news.example.org\nSubject: unsubscribe TOK\n\n", Irrelevant, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.msg), opt)
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != tt.kind || got.UnsubscribeToken != tt.token {
				t.Fatalf("Parse = %+v, want kind %s token %q", got, tt.kind, tt.token)
			}
		})
	}
	// The same message is not an unsubscribe when no mailto: address is configured.
	got, _ := Parse(strings.NewReader(tests[0].msg), Options{BounceAddress: bounceAddr})
	if got.Kind != Irrelevant {
		t.Fatalf("without UnsubscribeAddress: %+v", got)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.eml")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("From: a@b\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := Parse(bytes.NewReader(data), Options{BounceAddress: bounceAddr, UnsubscribeAddress: "unsubscribe@news.example.org", MaxBytes: 1 << 20})
		if err != nil {
			if rep != (Report{}) {
				t.Fatalf("error %v with a non-empty report %+v", err, rep)
			}
			return
		}
		switch rep.Kind {
		case Hard, Soft, Complaint, Unsubscribe, Irrelevant:
		default:
			t.Fatalf("kind %q", rep.Kind)
		}
		if strings.ContainsAny(rep.Reason, "\r\n") {
			t.Fatalf("reason spans lines: %q", rep.Reason)
		}
		if rep.Kind != Irrelevant && rep.Format == "" {
			t.Fatalf("kind %s without a format", rep.Kind)
		}
	})
}

// TestReportID: the report's own Message-ID, not the returned message's, names the report,
// so that feeding it twice counts it once.
func TestReportID(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "exim-hard.eml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := Parse(f, Options{BounceAddress: bounceAddr})
	if err != nil {
		t.Fatal(err)
	}
	if got.ReportID != "E1wA1bc-0003Xy-2Q@smtp.example.co.uk" || got.MessageID != "2026-W20.7.5@news.example.org" {
		t.Fatalf("ReportID %q, MessageID %q", got.ReportID, got.MessageID)
	}
}
