package dkim_test

import (
	"bytes"
	"crypto"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	msgauth "github.com/emersion/go-msgauth/dkim"

	"newsletter/internal/dkim"
)

// TestSignatureMatchesGoMsgauth holds our signer to the bytes go-msgauth writes for the same
// message, keys, h= list and time (RSA PKCS#1 v1.5 and Ed25519 signatures are deterministic):
// recipients get the DKIM-Signature they got before, over bodies that the relaxed form
// changes in every way it can.
func TestSignatureMatchesGoMsgauth(t *testing.T) {
	rendered, err := message().Render(nil)
	if err != nil {
		t.Fatal(err)
	}
	head, renderedBody, _ := bytes.Cut(rendered, []byte("\r\n\r\n"))
	head = append(bytes.Clone(head), "\r\nFeedback-ID: a\r\n\t b  c "...)
	bodies := map[string]string{
		"as rendered":           string(renderedBody),
		"white space runs":      "a  b\t\tc\r\n \tindented\r\ntrailing \t\r\n",
		"empty lines at end":    "text\r\n\r\n\r\n  \r\n\r\n",
		"only empty lines":      "\r\n\r\n\r\n",
		"one empty line":        "\r\n",
		"plain, empty at end":   "one two\r\n\r\nthree\r\n\r\n\r\n",
		"lone CR":               "one\rtwo \rthree\r\n",
		"space at the end":      "one\r\ntwo ",
		"empty lines inside":    "one\r\n\r\n\r\ntwo\r\n",
		"bare LF":               "one\ntwo  three\n",
		"no final line break":   "one\r\ntwo",
		"white space only":      " \r\n\t\r\n",
		"empty":                 "",
		"dot and long lines":    ".leading dot\r\n" + strings.Repeat("=3D0123456789", 40) + "\r\n",
		"space before line end": "x \r\ny\r\n",
	}
	for kind, key := range keys(t) {
		for name, body := range bodies {
			t.Run(kind+"/"+name, func(t *testing.T) {
				msg := append(append(bytes.Clone(head), "\r\n\r\n"...), body...) // the last field and the blank line
				ours, err := dkim.New(dkim.Options{Domain: "technerdo.com", Keys: []dkim.Key{{Selector: "s2026", Signer: key}}})
				if err != nil {
					t.Fatal(err)
				}
				first, err := ours.Signature(msg)
				if err != nil {
					t.Fatal(err)
				}
				hkeys := strings.Split(tag(t, first, "h"), ":")
				theirs := goMsgauthSignature(t, msg, key, hkeys)
				at, err := strconv.ParseInt(tag(t, []byte(theirs), "t"), 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				ours, err = dkim.New(dkim.Options{Domain: "technerdo.com", Keys: []dkim.Key{{Selector: "s2026", Signer: key}},
					Now: func() time.Time { return time.Unix(at, 0) }})
				if err != nil {
					t.Fatal(err)
				}
				got, err := ours.Signature(msg)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != theirs {
					t.Fatalf("ours:\n%s\ngo-msgauth:\n%s", got, theirs)
				}
				if v := verify(t, append(got, msg...), key); len(v) != 1 || v[0].Err != nil {
					t.Fatalf("verifications %+v", v)
				}
			})
		}
	}
}

func goMsgauthSignature(t testing.TB, msg []byte, key crypto.Signer, hkeys []string) string {
	t.Helper()
	ds, err := msgauth.NewSigner(&msgauth.SignOptions{Domain: "technerdo.com", Selector: "s2026", Signer: key, HeaderKeys: hkeys,
		HeaderCanonicalization: msgauth.CanonicalizationRelaxed, BodyCanonicalization: msgauth.CanonicalizationRelaxed})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ds.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}
	return ds.Signature()
}

// tag returns the value of one tag of a DKIM-Signature field, unfolded.
func tag(t testing.TB, field []byte, name string) string {
	t.Helper()
	unfolded := strings.NewReplacer("\r\n ", "", "\r\n", "").Replace(string(field))
	m := regexp.MustCompile(`[ :;]` + name + `=([^;]*)`).FindStringSubmatch(unfolded)
	if m == nil {
		t.Fatalf("no %s= in %s", name, field)
	}
	return strings.TrimSpace(m[1])
}

// TestTwoSignatures: an RSA and an Ed25519 key sign every message, each verified on its own
// (RFC 8463 §4), and each names its own selector and algorithm.
func TestTwoSignatures(t *testing.T) {
	k := keys(t)
	s, err := dkim.New(dkim.Options{Domain: "technerdo.com", Keys: []dkim.Key{
		{Selector: "rsa2026", Signer: k["rsa"]}, {Selector: "ed2026", Signer: k["ed25519"]}}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := message().Render(s)
	if err != nil {
		t.Fatal(err)
	}
	txt := map[string]string{}
	for sel, key := range map[string]crypto.Signer{"rsa2026": k["rsa"], "ed2026": k["ed25519"]} {
		rec, err := dkim.TXTRecord(key)
		if err != nil {
			t.Fatal(err)
		}
		txt[sel+"._domainkey.technerdo.com"] = rec
	}
	v, err := msgauth.VerifyWithOptions(bytes.NewReader(raw), &msgauth.VerifyOptions{LookupTXT: func(domain string) ([]string, error) {
		return []string{txt[domain]}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 2 {
		t.Fatalf("%d signatures, want 2", len(v))
	}
	for _, one := range v {
		if one.Err != nil {
			t.Errorf("signature of %s: %v", one.Domain, one.Err)
		}
	}
	if n := bytes.Count(raw, []byte("DKIM-Signature:")); n != 2 {
		t.Errorf("%d DKIM-Signature fields", n)
	}
	for _, want := range []string{"a=rsa-sha256; ", "a=ed25519-sha256; ", "s=rsa2026;", "s=ed2026;"} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("no %q in the signatures", want)
		}
	}
	if got := s.String(); got != "DKIM rsa d=technerdo.com s=rsa2026 and ed25519 d=technerdo.com s=ed2026" {
		t.Errorf("String() = %q", got)
	}
}
