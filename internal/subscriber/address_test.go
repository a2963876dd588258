package subscriber

import (
	"strings"
	"testing"
)

func TestNormalizeAddress(t *testing.T) {
	long63 := strings.Repeat("a", 63)
	// 64 + 1 + (63+1)*3 + 3 = 260 bytes: every part within its own limit, the whole over 254.
	tooLong := strings.Repeat("b", 64) + "@" + long63 + "." + long63 + "." + long63 + ".com"

	good := []struct {
		name, in, want string
	}{
		{"plain", "alice@example.com", "alice@example.com"},
		{"plus tag", "alice+news@example.com", "alice+news@example.com"},
		{"surrounding spaces", "  alice@example.com\t", "alice@example.com"},
		{"idn domain", "leser@bücher.de", "leser@xn--bcher-kva.de"},
		{"upper-case domain lowered, local kept", "Alice.Smith@EXAMPLE.Com", "Alice.Smith@example.com"},
		{"punycode kept", "x@xn--bcher-kva.de", "x@xn--bcher-kva.de"},
		{"subdomain", "x@mail.eu.example.org", "x@mail.eu.example.org"},
		{"64-char local", strings.Repeat("l", 64) + "@example.com", strings.Repeat("l", 64) + "@example.com"},
		{"utf-8 local", "jörg@example.com", "jörg@example.com"},
		{"atext symbols", "a!#$%&'*+/=?^_`{|}~-z@example.com", "a!#$%&'*+/=?^_`{|}~-z@example.com"},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeAddress(tc.in)
			if err != nil {
				t.Fatalf("NormalizeAddress(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Fatalf("NormalizeAddress(%q) = %q, want %q", tc.in, got, tc.want)
			}
			again, err := NormalizeAddress(got)
			if err != nil || again != got {
				t.Fatalf("not idempotent: %q -> %q, %v", got, again, err)
			}
		})
	}

	bad := []struct {
		name, in, why string
	}{
		{"empty", "", "empty"},
		{"only spaces", "   ", "empty"},
		{"no at", "alice.example.com", "missing @"},
		{"two at", "alice@bob@example.com", "more than one @"},
		{"display name", "Bob <b@x.com>", "display names"},
		{"angle brackets", "<b@x.com>", "angle brackets"},
		{"crlf injection", "a@b.com\r\nBcc: x@y.com", "line break"},
		{"lf only", "a@b.com\nx", "line break"},
		{"nul", "a\x00b@x.com", "control character"},
		{"tab inside", "a\tb@x.com", "control character"},
		{"no dot in domain", "a@localhost", `domain "localhost" has no dot`},
		{"65-char local", strings.Repeat("l", 65) + "@example.com", "local part is 65 bytes"},
		{"over 254 total", tooLong, "address is 260 bytes"},
		{"space inside", "ali ce@example.com", "contains a space"},
		{"space before at", "alice @example.com", "contains a space"},
		{"empty local", "@example.com", "before @"},
		{"empty domain", "alice@", "domain after @"},
		{"double dot local", "a..b@example.com", "misplaced dot"},
		{"leading dot local", ".a@example.com", "misplaced dot"},
		{"empty label", "a@example..com", "empty label"},
		{"trailing dot", "a@example.com.", "empty label"},
		{"underscore domain", "a@ex_ample.com", "not valid"},
		{"hyphen label", "a@-example.com", "not valid"},
		{"long label", "a@" + strings.Repeat("d", 64) + ".com", "label longer than 63"},
		{"domain literal", "a@[192.0.2.1]", "domain literals"},
		{"numeric tld", "a@192.0.2.1", "numeric label"},
		{"quoted local", `"a b"@example.com`, "quoted"},
		{"quoted local no space", `"ab"@example.com`, "quoted"},
		{"comment", "a@example.com(Bob)", "comments"},
		{"comma list", "a@x.com,b@y.com", "more than one @"},
		{"invalid utf-8", "a\xff@example.com", "UTF-8"},
		{"bad local char", "a;b@example.com", "not a valid address"},
		{"huge", strings.Repeat("x", 1<<20) + "@example.com", "the limit is 254"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeAddress(tc.in)
			if err == nil {
				t.Fatalf("NormalizeAddress(%q) = %q, want an error", tc.in, got)
			}
			if !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("NormalizeAddress(%q) error %q, want it to say %q", tc.in, err, tc.why)
			}
			if len(err.Error()) > 300 {
				t.Fatalf("error is %d bytes long", len(err.Error()))
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error %q carries a line break", err)
			}
		})
	}
}

func TestCleanName(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Ada Lovelace", "Ada Lovelace"},
		{"trim and collapse", "  Ada \t  Lovelace  ", "Ada Lovelace"},
		{"crlf becomes space", "Ada\r\nBcc: x@y.com", "Ada Bcc: x@y.com"},
		{"control chars dropped", "A\x00d\x07a\x1b", "Ada"},
		{"invalid utf-8 dropped", "Ad\xffa", "Ada"},
		{"unicode kept", "Zoë Ørsted", "Zoë Ørsted"},
		{"empty", "", ""},
		{"only space", " \r\n\t ", ""},
		{"capped", strings.Repeat("é", 250), strings.Repeat("é", 200)},
		{"cap does not end in space", strings.Repeat("x", 199) + " yz", strings.Repeat("x", 199)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := CleanName(tc.in); got != tc.want {
				t.Fatalf("CleanName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzNormalizeAddress(f *testing.F) {
	for _, s := range []string{"a@example.com", "leser@bücher.de", "Bob <b@x.com>", "a@b.com\r\nBcc: x@y.com", `"q"@x.com`, "a@ＥＸＡＭＰＬＥ。com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeAddress(s)
		if err != nil {
			return
		}
		if strings.Count(got, "@") != 1 || len(got) > maxAddressLen || strings.ContainsAny(got, "\r\n <>\"") {
			t.Fatalf("NormalizeAddress(%q) = %q", s, got)
		}
		if again, err := NormalizeAddress(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
	})
}
