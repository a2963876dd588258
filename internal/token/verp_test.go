package token

import (
	"strings"
	"testing"
)

func TestVERP(t *testing.T) {
	s, _ := NewSigner([]byte(strings.Repeat("k", 32)))
	other, _ := NewSigner([]byte(strings.Repeat("o", 32)))
	tok := s.MakeVERP(7, 3, "Carol@Example.net")
	if len(tok) > 24 || strings.ToLower(tok) != tok {
		t.Fatalf("token %q: want at most 24 lower-case characters", tok)
	}
	big := s.MakeVERP(1<<40, 1<<40, "a@b.example")
	if len(big) > 40 {
		t.Errorf("token for large ids is %d characters", len(big))
	}
	is, sub, err := ParseVERP(tok)
	if err != nil || is != 7 || sub != 3 {
		t.Fatalf("ParseVERP = %d, %d, %v", is, sub, err)
	}
	tests := []struct {
		name  string
		tok   string
		issue int64
		sub   int64
		email string
		want  bool
	}{
		{"good", tok, 7, 3, "carol@example.net", true},
		{"upper-cased by a relay", strings.ToUpper(tok), 7, 3, "carol@example.net", true},
		{"other issue", tok, 8, 3, "carol@example.net", false},
		{"other subscriber", tok, 7, 4, "carol@example.net", false},
		{"other address", tok, 7, 3, "dave@example.net", false},
		{"other key", other.MakeVERP(7, 3, "carol@example.net"), 7, 3, "carol@example.net", false},
		{"unsubscribe token", s.Make(Unsubscribe, 3, "carol@example.net"), 7, 3, "carol@example.net", false},
		{"changed tag", tok[:len(tok)-5] + strings.ToLower(flip(strings.ToUpper(tok)[len(tok)-5])) + tok[len(tok)-4:], 7, 3, "carol@example.net", false},
		{"empty", "", 7, 3, "carol@example.net", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.CheckVERP(tt.tok, tt.issue, tt.sub, tt.email); got != tt.want {
				t.Errorf("CheckVERP(%q) = %v, want %v", tt.tok, got, tt.want)
			}
		})
	}
}

func FuzzParseVERP(f *testing.F) {
	s, _ := NewSigner([]byte(strings.Repeat("k", 32)))
	f.Add(s.MakeVERP(7, 3, "a@b.example"))
	f.Add("aaaa")
	f.Fuzz(func(t *testing.T, tok string) {
		is, sub, err := ParseVERP(tok)
		if err == nil && (is <= 0 || sub <= 0) {
			t.Fatalf("ParseVERP(%q) = %d, %d without error", tok, is, sub)
		}
		if s.CheckVERP(tok, is, sub, "a@b.example") && strings.ToLower(tok) != s.MakeVERP(is, sub, "a@b.example") {
			t.Fatalf("CheckVERP accepted %q", tok)
		}
	})
}
