package dkim_test

import (
	"strings"
	"testing"

	"newsletter/internal/dkim"
)

// BenchmarkSignature is the signing cost of one 80 KB message per key kind, against
// go-msgauth's signer given the same message and h= list: the difference is what signing
// costs around the signature itself.
func BenchmarkSignature(b *testing.B) {
	m := message()
	m.HTML = strings.Repeat("<p style=\"margin: 0 0 16px 0;\">A  story's summary, with a <a href=\"https://example.org/s\">link</a>.</p>\r\n", 800)
	msg, err := m.Render(nil)
	if err != nil {
		b.Fatal(err)
	}
	for kind, key := range keys(b) {
		s, err := dkim.New(dkim.Options{Domain: "technerdo.com", Keys: []dkim.Key{{Selector: "s2026", Signer: key}}})
		if err != nil {
			b.Fatal(err)
		}
		sig, err := s.Signature(msg)
		if err != nil {
			b.Fatal(err)
		}
		hkeys := strings.Split(tag(b, sig, "h"), ":")
		b.Run(kind+"/ours", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if _, err := s.Signature(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(kind+"/go-msgauth", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				goMsgauthSignature(b, msg, key, hkeys)
			}
		})
	}
}
