package token

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newSigner(t testing.TB, key string) *Signer {
	t.Helper()
	s, err := NewSigner([]byte(strings.Repeat(key, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMakeAndCheck(t *testing.T) {
	s := newSigner(t, "k")
	other := newSigner(t, "q")
	tok := s.Make(Unsubscribe, 42, "alice@example.com")
	if len(tok) < 22 {
		t.Fatalf("token %q too short", tok)
	}
	if strings.ContainsAny(tok, "+/=") {
		t.Fatalf("token %q is not URL-safe", tok)
	}
	tests := []struct {
		name  string
		s     *Signer
		p     Purpose
		tok   string
		id    int64
		email string
		want  bool
	}{
		{"valid", s, Unsubscribe, tok, 42, "alice@example.com", true},
		{"address case does not matter", s, Unsubscribe, tok, 42, "Alice@Example.com", true},
		{"other subscriber id", s, Unsubscribe, tok, 43, "alice@example.com", false},
		{"other address, same id (erased and reused)", s, Unsubscribe, tok, 42, "bob@example.com", false},
		{"other key", other, Unsubscribe, tok, 42, "alice@example.com", false},
		{"other purpose", s, Purpose("confirm"), tok, 42, "alice@example.com", false},
		{"flipped last char", s, Unsubscribe, tok[:len(tok)-1] + flip(tok[len(tok)-1]), 42, "alice@example.com", false},
		{"truncated", s, Unsubscribe, tok[:len(tok)-2], 42, "alice@example.com", false},
		{"empty", s, Unsubscribe, "", 42, "alice@example.com", false},
		{"not base64", s, Unsubscribe, strings.Repeat("*", len(tok)), 42, "alice@example.com", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Check(tc.p, tc.tok, tc.id, tc.email); got != tc.want {
				t.Fatalf("Check = %v, want %v", got, tc.want)
			}
		})
	}
	if id, err := s.ID(tok); err != nil || id != 42 {
		t.Fatalf("ID = %d, %v", id, err)
	}
	if _, err := s.ID("../../etc/passwd"); err != ErrInvalid {
		t.Fatalf("ID of junk = %v, want ErrInvalid", err)
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestNewSignerRejectsShortKey(t *testing.T) {
	if _, err := NewSigner([]byte("short")); err == nil {
		t.Fatal("want error")
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "secret.key")
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(k1, k2) || len(k1) != 32 {
		t.Fatalf("second load gave a different key (%v)", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.key")
	os.WriteFile(bad, []byte("not hex"), 0o600)
	if _, err := LoadOrCreateKey(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("want error naming %s, got %v", bad, err)
	}
}

func FuzzID(f *testing.F) {
	s := newSigner(f, "k")
	f.Add(s.Make(Unsubscribe, 1, "a@b.c"))
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		id, err := s.ID(tok)
		if err == nil && s.Check(Unsubscribe, tok, id, "a@b.c") && tok != s.Make(Unsubscribe, 1, "a@b.c") {
			t.Fatalf("forged token %q accepted", tok)
		}
	})
}

func BenchmarkMake(b *testing.B) {
	s := newSigner(b, "k")
	for b.Loop() {
		s.Make(Unsubscribe, 123456, "alice@example.com")
	}
}

// TestTokensStayTheSame pins tokens made by an earlier version of this package: links in
// mail already sent, VERP addresses that bounces come back to and suppression digests in
// the database must keep working whenever the code that makes them changes.
func TestTokensStayTheSame(t *testing.T) {
	s, err := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	expires := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct{ name, got, want string }{
		{"unsubscribe", s.Make(Unsubscribe, 42, "Alice@Example.org"), "AAAAAAAAACoPRg2TM1Px2GISE1O_69e6"},
		{"confirm", s.MakeExpiring(Confirm, 7, "Bob@Example.org", expires), "AAAAAAAAAAcAAAAAafSVwPAucbPTm-wYU-LpJZi4SW0"},
		{"VERP", s.MakeVERP(3, 42, "Alice@Example.org"), "amviccngwymwzcwe7wxq"},
		{"VERP, large ids", s.MakeVERP(300000, 1<<40, "x@y"), "4ctrfaeaqcaiaiddm4ahzrpn35u434i"},
		{"digest", hex.EncodeToString(s.Digest("Alice@Example.org")), "193915768dae8128a80bf5834009df1901886c8ceecc9557bdae2d1c06c0a2d7"},
		{"install tag", s.InstallTag(), "e5enqdhd"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	// A form token has a random nonce: check that one made earlier still passes.
	form := "AAAAAGn0lcAWngwtdi_84HkGJPQK7DdaBVNUreeyFeVMOL3__qZmXA"
	if err := s.CheckForm(PublicForm, form, expires.Add(time.Minute), time.Hour); err != nil {
		t.Errorf("earlier form token: %v", err)
	}
	if !s.Check(Unsubscribe, "AAAAAAAAACoPRg2TM1Px2GISE1O_69e6", 42, "alice@example.org") {
		t.Error("earlier unsubscribe token refused")
	}
	if s.CheckExpiring(Confirm, "AAAAAAAAAAcAAAAAafSVwPAucbPTm-wYU-LpJZi4SW0", 7, "bob@example.org", expires.Add(-time.Hour)) != nil {
		t.Error("earlier confirm token refused")
	}
}
