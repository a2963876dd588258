package token

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)

func TestExpiring(t *testing.T) {
	s := newSigner(t, "0123456789abcdef0123456789abcdef")
	other := newSigner(t, "fedcba9876543210fedcba9876543210")
	exp := t0.Add(72 * time.Hour)
	tok := s.MakeExpiring(Confirm, 7, "Ada@example.com", exp)
	if id, gotExp, err := ParseExpiring(tok); err != nil || id != 7 || !gotExp.Equal(exp) {
		t.Fatalf("parse: %d %v %v", id, gotExp, err)
	}
	tests := []struct {
		name  string
		tok   string
		id    int64
		email string
		now   time.Time
		want  error
	}{
		{"valid, address case ignored", tok, 7, "ada@example.com", t0, nil},
		{"last second", tok, 7, "ada@example.com", exp.Add(-time.Second), nil},
		{"expired", tok, 7, "ada@example.com", exp, ErrExpired},
		{"other id", tok, 8, "ada@example.com", t0, ErrInvalid},
		{"other address", tok, 7, "bob@example.com", t0, ErrInvalid},
		{"other key", other.MakeExpiring(Confirm, 7, "ada@example.com", exp), 7, "ada@example.com", t0, ErrInvalid},
		{"other purpose", s.MakeExpiring(Unsubscribe, 7, "ada@example.com", exp), 7, "ada@example.com", t0, ErrInvalid},
		{"unsubscribe token", s.Make(Confirm, 7, "ada@example.com"), 7, "ada@example.com", t0, ErrInvalid},
		{"truncated", tok[:len(tok)-1], 7, "ada@example.com", t0, ErrInvalid},
		{"tag flipped", tok[:len(tok)-1] + flip(tok[len(tok)-1]), 7, "ada@example.com", t0, ErrInvalid},
		{"expiry extended", s.MakeExpiring(Confirm, 7, "ada@example.com", exp)[:11] + flip(tok[11]) + tok[12:], 7, "ada@example.com", t0, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.CheckExpiring(Confirm, tt.tok, tt.id, tt.email, tt.now); !errors.Is(err, tt.want) && err != tt.want {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	// The old unsubscribe format is untouched: an expiring token does not parse as one.
	if _, err := s.ID(tok); !errors.Is(err, ErrInvalid) {
		t.Fatalf("expiring token parsed as an unsubscribe token: %v", err)
	}
}

func TestForm(t *testing.T) {
	s := newSigner(t, "0123456789abcdef0123456789abcdef")
	other := newSigner(t, "fedcba9876543210fedcba9876543210")
	tok := s.MakeForm(PublicForm, t0)
	if tok == s.MakeForm(PublicForm, t0) {
		t.Fatal("two form tokens are equal: no nonce")
	}
	for _, tt := range []struct {
		name string
		tok  string
		now  time.Time
		want error
	}{
		{"fresh", tok, t0.Add(time.Minute), nil},
		{"too old", tok, t0.Add(3 * time.Hour), ErrExpired},
		{"from the future", tok, t0.Add(-time.Hour), ErrInvalid},
		{"other key", other.MakeForm(PublicForm, t0), t0, ErrInvalid},
		{"empty", "", t0, ErrInvalid},
		{"flipped", tok[:5] + flip(tok[5]) + tok[6:], t0, ErrInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.CheckForm(PublicForm, tt.tok, tt.now, 2*time.Hour); err != tt.want {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	// A sign-up form's token, which any visitor gets, is no good on an admin form.
	if err := s.CheckForm(AdminForm, tok, t0, 2*time.Hour); err != ErrInvalid {
		t.Fatalf("public form token on an admin form: %v, want ErrInvalid", err)
	}
	if err := s.CheckForm(AdminForm, s.MakeForm(AdminForm, t0), t0, 2*time.Hour); err != nil {
		t.Fatalf("admin form token: %v", err)
	}
}

func TestDigest(t *testing.T) {
	s := newSigner(t, "0123456789abcdef0123456789abcdef")
	other := newSigner(t, "fedcba9876543210fedcba9876543210")
	if !bytes.Equal(s.Digest("Ada@Example.com"), s.Digest(" ada@example.com")) {
		t.Fatal("digest depends on case or spaces")
	}
	if bytes.Equal(s.Digest("ada@example.com"), other.Digest("ada@example.com")) {
		t.Fatal("digest does not depend on the key")
	}
}

func FuzzParseExpiring(f *testing.F) {
	s := newSigner(f, "0123456789abcdef0123456789abcdef")
	f.Add(s.MakeExpiring(Confirm, 1, "a@example.com", t0))
	f.Add(s.MakeForm(PublicForm, t0))
	f.Add("")
	f.Add("%%%")
	f.Fuzz(func(t *testing.T, tok string) {
		id, exp, err := ParseExpiring(tok)
		if err == nil && (id <= 0 || exp.Unix() <= 0) {
			t.Fatalf("accepted id %d exp %v", id, exp)
		}
		if err == nil && s.CheckExpiring(Confirm, tok, id, "a@example.com", t0.Add(-time.Hour)) == nil &&
			tok != s.MakeExpiring(Confirm, id, "a@example.com", exp) {
			t.Fatalf("a token that is not ours checked out: %q", tok)
		}
		_ = s.CheckForm(PublicForm, tok, t0, time.Hour)
	})
}

func TestInstallTag(t *testing.T) {
	a := newSigner(t, strings.Repeat("a", 32))
	b := newSigner(t, strings.Repeat("b", 32))
	if a.InstallTag() != newSigner(t, strings.Repeat("a", 32)).InstallTag() {
		t.Fatal("the tag changes for the same key")
	}
	if a.InstallTag() == b.InstallTag() {
		t.Fatal("two keys give the same tag")
	}
	if !regexp.MustCompile(`^[a-z2-7]{8}$`).MatchString(a.InstallTag()) {
		t.Fatalf("tag %q: want 8 characters of lower-case base32 (atext, safe in a Message-ID)", a.InstallTag())
	}
}
